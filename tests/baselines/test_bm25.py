import numpy as np
import pytest

pytest.importorskip("bm25s")

from samesense.baselines.bm25 import BM25Ranker  # noqa: E402
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
