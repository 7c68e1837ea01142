import numpy as np

from samesense.evaluate import (accuracy_f1, average_ranks, best_threshold, nearest_neighbours,
                                open_set_ranking, roc_auc, spearman)


def brute_force_topk(vectors, labels, k):
    hits, n = 0, 0
    for i in range(len(vectors)):
        if (labels == labels[i]).sum() < 2:
            continue
        sims = vectors @ vectors[i]
        sims[i] = -np.inf
        n += 1
        hits += any(labels[j] == labels[i] for j in np.argsort(-sims)[:k])
    return hits / n, n


def test_open_set_ranking_matches_brute_force():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 40, 300)
    vectors = rng.normal(size=(300, 8)) + 2.0 * rng.normal(size=(40, 8))[labels]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    result = open_set_ranking(vectors.astype(np.float32), labels)
    for k in (1, 5, 10):
        expected, n = brute_force_topk(vectors, labels, k)
        assert abs(result[f"top{k}"] - expected) < 1e-9
    assert result["n"] == n


def test_self_is_excluded_and_singletons_are_not_queries():
    vectors = np.eye(4, dtype=np.float32)[[0, 0, 1, 2]]  # rows 0 and 1 identical
    labels = np.array([0, 0, 1, 2])
    assert nearest_neighbours(vectors, 1)[:2, 0].tolist() == [1, 0]
    result = open_set_ranking(vectors, labels, ks=(1,))
    assert result == {"top1": 1.0, "n": 2}


def test_rank_metrics_against_hand_values():
    assert average_ranks(np.array([10, 20, 20, 5])).tolist() == [2.0, 3.5, 3.5, 1.0]
    assert spearman(np.array([1, 2, 3, 4]), np.array([10, 20, 30, 40])) == 1.0
    assert spearman(np.array([1, 2, 3, 4]), np.array([4, 3, 2, 1])) == -1.0
    scores, labels = np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0])
    assert roc_auc(scores, labels) == 0.75  # 3 of 4 (pos, neg) pairs in order


def test_threshold_search():
    scores = np.array([0.9, 0.85, 0.6, 0.5, 0.2])
    labels = np.array([1, 1, 1, 0, 0])
    t = best_threshold(scores, labels)
    assert 0.5 < t < 0.6
    assert accuracy_f1(scores, labels, t) == (1.0, 1.0)
    accuracy, f1 = accuracy_f1(scores, labels, 0.86)
    assert accuracy == 0.6 and abs(f1 - 0.5) < 1e-12
