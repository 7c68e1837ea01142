import numpy as np
import pytest

pytest.importorskip("bm25s")

from samesense.lexical.bm25 import BM25Ranker  # noqa: E402
from samesense.evaluate import ranking_scores  # noqa: E402


def test_bm25_ranks_word_overlap_first_and_never_itself():
    sentences = ["how do i reset my pin", "reset pin please", "what is the weather today",
                 "weather forecast for today", "book a table for two"]
    neighbours = BM25Ranker().neighbours(sentences, k=2)
    assert neighbours.shape == (5, 2)
    assert all(i not in row for i, row in enumerate(neighbours))
    assert neighbours[0, 0] == 1 and neighbours[2, 0] == 3
    scores = ranking_scores(neighbours, np.array([0, 0, 1, 1, 2]), ks=(1,))
    assert scores == {"top1": 1.0, "n": 4}


def test_bm25_uses_words_for_chinese():
    ranker = BM25Ranker()
    tokens = ranker.tokenize(["我想办理信用卡", "信用卡怎么办理"])
    assert "信用卡" in tokens[0] and "信用卡" in tokens[1]
    assert BM25Ranker().neighbours(["我想办理信用卡", "今天天气很好", "信用卡怎么办理"], k=1)[0, 0] == 2


def test_pair_scores_are_the_mean_of_both_directions_of_bm25s():
    from samesense.lexical.bm25 import BM25Index

    first = ["how do i reset my pin", "reset pin please", "what is the weather today", "book a table"]
    second = ["reset pin please", "how do i reset my pin pin", "weather forecast for today", "zzz"]
    ranker = BM25Ranker()
    scores = ranker.pair_scores(first, second)
    unique = list(dict.fromkeys(first + second))
    words = ranker.tokenize(unique)
    retriever = BM25Index(words).retriever  # the file's own sentences give the word weights
    for (a, b), score in zip(zip(first, second), scores):
        i, j = unique.index(a), unique.index(b)
        expected = (retriever.get_scores(words[i])[j] + retriever.get_scores(words[j])[i]) / 2
        assert abs(score - expected) < 1e-5
    assert scores[3] == 0.0  # no shared word
    assert scores[0] > 0 and scores[2] > 0


def test_pair_scores_are_symmetric_in_the_two_sides():
    ranker = BM25Ranker()
    first, second = ["reset my pin", "weather today"], ["pin reset now", "today weather forecast"]
    assert np.allclose(ranker.pair_scores(first, second), ranker.pair_scores(second, first))


def test_best_matches_find_the_pool_sentence_sharing_most_words():
    pool = ["how do i reset my pin", "what is the weather today", "book a table for two"]
    best, scores = BM25Ranker().best_matches(["pin reset", "table for four", "weather", "zzz"], pool)
    assert best[:3].tolist() == [0, 2, 1]
    assert scores[3] == 0.0 and (scores[:3] > 0).all()


def test_best_matches_cut_queries_into_words_as_the_pool_is_cut():
    # alone, these queries are mostly Latin; with a Chinese pool they are still cut with jieba
    pool = ["我想办理信用卡", "今天的天气很好", "明天去北京"]
    best, scores = BM25Ranker().best_matches(["visa信用卡办理", "ok", "hello"], pool)
    assert best[0] == 0 and scores[0] > 0
