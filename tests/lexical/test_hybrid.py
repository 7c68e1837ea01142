"""Hybrid scoring (samesense.lexical.hybrid) against a slow reference written from the formula, pair by pair."""

import hashlib
import json
import math
import random
import re

import numpy as np
import pytest

from synthetic import make_groups, write_groups

from samesense.lexical.bm25 import BM25Index, BM25Ranker
from samesense.errors import SamesenseError
from samesense.lexical.hybrid import WEIGHT_GRID, HybridRanker, choose_weight

K1, B = 1.5, 0.75  # bm25s's defaults, which BM25Index uses


class CharBigrams:
    """A dense stand-in: character bigrams hashed into 32 buckets, unit rows (not BM25's words)."""

    dim = 32
    fingerprint = "char-bigrams-1"

    def encode(self, texts, batch_size=256, show_progress=False):
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for a, b in zip(text, text[1:]):
                out[row, int(hashlib.md5((a + b).encode()).hexdigest(), 16) % self.dim] += 1.0
            out[row, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def words(text):
    return re.findall(r"\w+", text.lower())


def reference_bm25(query, doc, corpus):
    """Lucene BM25 of one query against one document of `corpus` (lists of words), as bm25s scores."""
    n, mean = len(corpus), sum(map(len, corpus)) / len(corpus)
    score = 0.0
    for w in query:
        df = sum(w in d for d in corpus)
        tf = doc.count(w)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        score += idf * tf / (tf + K1 * (1 - B + B * len(doc) / mean))
    return score


def reference_fused(query, doc_index, sentences, vectors, query_vector, weight):
    corpus = [words(s) for s in sentences]
    q = words(query)
    # the query's self score: the query as one more document with the corpus's statistics
    n, mean = len(corpus), sum(map(len, corpus)) / len(corpus)
    self_score = 0.0
    for w in q:
        df = sum(w in d for d in corpus)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        self_score += idf * q.count(w) / (q.count(w) + K1 * (1 - B + B * len(q) / mean))
    lexical = min(reference_bm25(q, corpus[doc_index], corpus) / self_score, 1.0) if self_score else 0.0
    return (1 - weight) * float(query_vector @ vectors[doc_index]) + weight * lexical


SENTENCES = ["how do i reset my pin", "i forgot my pin", "reset the pin of my card", "what is the weather",
             "weather today in paris", "how do i reset my password", "book a table for two",
             "a table for two tonight", "pin pin pin", "is it raining in paris today"]


def test_self_scores_equal_an_indexed_sentences_score_against_itself():
    corpus = [words(s) for s in SENTENCES]
    index = BM25Index(corpus)
    full = (index.query_matrix(corpus) @ index.weights.T).toarray()
    np.testing.assert_allclose(index.self_scores(corpus), np.diag(full), rtol=1e-5)


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_top_k_matches_the_slow_reference(weight):
    encoder = CharBigrams()
    queries = ["reset my pin please", "weather in paris", "a table", "nothing shared here", "pin"]
    rows, scores = HybridRanker(encoder, weight, BM25Ranker(language="en")).top_k(queries, SENTENCES, k=4)
    vectors, query_vectors = encoder.encode(SENTENCES), encoder.encode(queries)
    for qi, query in enumerate(queries):
        expected = [reference_fused(query, d, SENTENCES, vectors, query_vectors[qi], weight)
                    for d in range(len(SENTENCES))]
        np.testing.assert_allclose(scores[qi], np.sort(expected)[::-1][:4], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose([expected[d] for d in rows[qi]], scores[qi], rtol=1e-4, atol=1e-5)


def test_neighbours_rank_the_others_and_never_the_sentence_itself():
    ranker = HybridRanker(CharBigrams(), 0.5, BM25Ranker(language="en"))
    near = ranker.neighbours(SENTENCES, 3)
    encoder = CharBigrams()
    vectors = encoder.encode(SENTENCES)
    for i, row in enumerate(near):
        assert i not in row
        expected = {d: reference_fused(SENTENCES[i], d, SENTENCES, vectors, vectors[i], 0.5)
                    for d in range(len(SENTENCES)) if d != i}
        best = sorted(expected.values(), reverse=True)[:3]
        np.testing.assert_allclose([expected[d] for d in row], best, rtol=1e-4, atol=1e-5)


def test_pair_scores_average_both_directions():
    encoder = CharBigrams()
    first, second = SENTENCES[:5], SENTENCES[5:]
    scores = HybridRanker(encoder, 0.4, BM25Ranker(language="en")).pair_scores(first, second)
    unique = list(dict.fromkeys(first + second))
    vectors = encoder.encode(unique)
    for a, b, score in zip(first, second, scores):
        i, j = unique.index(a), unique.index(b)
        both = (reference_fused(a, j, unique, vectors, vectors[i], 1.0)
                + reference_fused(b, i, unique, vectors, vectors[j], 1.0)) / 2
        assert score == pytest.approx(0.6 * float(vectors[i] @ vectors[j]) + 0.4 * both, rel=1e-4, abs=1e-5)


def test_choose_weight_takes_the_grids_best_top1():
    from samesense.evaluate import ranking_scores

    records = make_groups(30, 4, seed=3)
    sentences = [" ".join(s) for _, s in records]  # characters as words: BM25 and bigrams both see them
    labels = np.repeat(np.arange(30), 4)
    encoder = CharBigrams()
    chosen, top1 = choose_weight(encoder, sentences, labels, bm25=BM25Ranker(language="en"))
    assert set(top1) == set(WEIGHT_GRID)
    for w in (0.0, 0.5, 1.0):  # each weight's top-1 is what ranking with that weight gives
        near = HybridRanker(encoder, w, BM25Ranker(language="en")).neighbours(sentences, 1)
        assert top1[w] == pytest.approx(ranking_scores(near, labels, ks=(1,))["top1"])
    assert top1[chosen] == max(top1.values())


def test_a_weight_outside_0_to_1_or_a_model_without_vectors_is_refused():
    with pytest.raises(SamesenseError, match="from 0 to 1"):
        HybridRanker(CharBigrams(), 1.5)
    with pytest.raises(SamesenseError, match="not bm25"):
        HybridRanker(BM25Ranker(), 0.5)


def test_chinese_sentences_are_cut_into_jieba_words():
    ranker = HybridRanker(CharBigrams(), 1.0)
    pool = ["我忘记了银行卡密码", "今天天气怎么样", "信用卡怎么办理"]
    rows, scores = ranker.top_k(["银行卡密码忘记了怎么办"], pool, k=3)
    assert rows[0, 0] == 0 and scores[0, 0] > scores[0, 1]


def test_eval_and_similar_take_hybrid_from_the_command_line(trained_run, synthetic_files, tmp_path, capsys):
    from samesense.cli import main

    run, _ = trained_run
    _, test_file = synthetic_files
    assert main(["eval", str(run / "model"), str(test_file), "--hybrid", "0.25", "--json"]) == 0
    fixed = json.loads(capsys.readouterr().out)
    assert fixed["hybrid_weight"] == 0.25 and 0.0 <= fixed["top1"] <= 1.0
    dev = write_groups(tmp_path / "dev.tsv", make_groups(20, 4, seed=7, prefix="d"))
    assert main(["eval", str(run / "model"), str(test_file), "--hybrid-dev", str(dev), "--json"]) == 0
    out = capsys.readouterr()
    chosen = json.loads(out.out)["hybrid_weight"]
    assert chosen in WEIGHT_GRID and f"hybrid weight {chosen:g}, chosen on" in out.err
    sentence = test_file.read_text().splitlines()[0].split("\t")[1]
    assert main(["similar", str(run / "model"), sentence, "--against", str(test_file), "--hybrid", "0.5",
                 "-k", "2", "--json"]) == 0
    match = json.loads(capsys.readouterr().out)["matches"][0]
    assert match["sentence"] == sentence and match["score"] == pytest.approx(1.0, abs=1e-3)


def test_hybrid_flags_are_checked_while_parsing(trained_run, synthetic_files, capsys):
    from samesense.cli import main

    run, _ = trained_run
    _, test_file = synthetic_files
    for bad in ("nan", "-0.1", "2"):
        with pytest.raises(SystemExit) as stop:
            main(["eval", str(run / "model"), str(test_file), "--hybrid", bad])
        assert stop.value.code == 2
        assert f"--hybrid: must be from 0 to 1, got {bad}" in capsys.readouterr().err
    assert main(["eval", "bm25", str(test_file), "--hybrid", "0.5"]) == 2
    assert "not bm25" in capsys.readouterr().err


def test_random_inputs_agree_with_the_reference():
    rng = random.Random(5)
    vocab = "pin card reset weather paris table two book rain today account close open".split()
    pool = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 6))) for _ in range(25)]
    queries = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 4))) for _ in range(10)]
    encoder = CharBigrams()
    rows, scores = HybridRanker(encoder, 0.7, BM25Ranker(language="en")).top_k(queries, pool, k=1)
    vectors, query_vectors = encoder.encode(pool), encoder.encode(queries)
    for qi, query in enumerate(queries):
        best = max(reference_fused(query, d, pool, vectors, query_vectors[qi], 0.7) for d in range(len(pool)))
        assert scores[qi, 0] == pytest.approx(best, rel=1e-4, abs=1e-5)
