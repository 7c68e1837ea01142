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


def test_top_k_against_a_separate_pool():
    from samesense.evaluate import top_k

    pool = np.eye(3, dtype=np.float32)
    queries = np.array([[0.1, 0.9, 0.0], [0.0, 0.2, 0.8]], dtype=np.float32)
    indices, scores = top_k(queries, pool, 2, block=1)
    assert indices.tolist() == [[1, 0], [2, 1]]
    assert np.allclose(scores, [[0.9, 0.1], [0.8, 0.2]])


def test_pair_metrics_threshold_from_dev_or_optimistic():
    from samesense.data import Pairs
    from samesense.evaluate import pair_metrics

    test = Pairs(["a"] * 4, ["b"] * 4, np.array([1.0, 1.0, 0.0, 0.0]))
    scores = np.array([0.9, 0.6, 0.5, 0.1])
    dev = Pairs(["a"] * 2, ["b"] * 2, np.array([1.0, 0.0]))
    from_dev = pair_metrics(scores, test, np.array([0.95, 0.7]), dev)  # dev puts the cut at 0.825
    assert from_dev["threshold_from"] == "dev" and abs(from_dev["threshold"] - 0.825) < 1e-9
    assert from_dev["accuracy"] == 0.75 and from_dev["auc"] == 1.0
    alone = pair_metrics(scores, test)
    assert alone["threshold_from"].endswith("(optimistic)") and alone["accuracy"] == 1.0
    graded = pair_metrics(scores, Pairs(["a"] * 4, ["b"] * 4, np.array([4.5, 3.0, 2.0, 0.5])))
    assert graded["spearman"] == 1.0 and "accuracy" not in graded


def test_abstention_threshold_and_intent_scores():
    from samesense.evaluate import abstention_threshold, intent_scores

    # four in-scope queries (one matched to a wrong intent) and two out-of-scope ones
    best = np.array([0.9, 0.8, 0.7, 0.75, 0.4, 0.6])
    correct = np.array([True, True, True, False, False, False])
    oos = np.array([False, False, False, False, True, True])
    t = abstention_threshold(best, correct, oos)
    assert 0.6 < t < 0.7  # refuses both out-of-scope queries, answers the right in-scope ones
    scores = intent_scores(best, correct, oos, t)
    assert scores["accuracy"] == 0.75 and scores["oos_recall"] == 1.0
    assert scores["accuracy_no_abstention"] == 0.75 and abs(scores["overall_accuracy"] - 5 / 6) < 1e-12
    assert intent_scores(best, correct, oos) == {"n": 4, "accuracy": 0.75}
