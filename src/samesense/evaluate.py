"""Evaluation the way the model is used.

Open-set ranking (the article's protocol): the groups of the test file were never seen in
training; every sentence is a query against all the other sentences of the file (itself
excluded), and a query scores a hit at k when one of its k nearest shares its group. Sentences
whose group has no other member in the file cannot score; they are not queries, but they stay in
the pool as distractors.

Pair scoring: the cosine of the two sentences' vectors against the pair's label: Spearman for any
label, and for 0/1 labels ROC AUC plus accuracy and F1 at a threshold chosen on a dev file (or the
best threshold on the same file, which is optimistic and reported as such).

Intent matching: a query takes the intent of its best match among labelled examples, or is refused
when that match scores under a threshold chosen on dev queries (with out-of-scope ones).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .data import Groups, Pairs, has_partner

Encode = Callable[[Sequence[str]], np.ndarray]


def nearest_neighbours(vectors: np.ndarray, k: int, block: int = 2048) -> np.ndarray:
    """Indices of each row's k most similar other rows by inner product, best first."""
    return top_k(vectors, vectors, k, block, skip_self=True)[0]


def top_k(queries: np.ndarray, pool: np.ndarray, k: int, block: int = 2048,
          skip_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(indices, similarities) of each query's k most similar pool rows by inner product, best
    first. skip_self: the queries are the pool, and a sentence is not its own neighbour."""
    import torch  # here, not at the top: the FAQ bank's search imports this module, and a bank on a static
    # model answers without torch (runtime/static_model.py)

    queries_t = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    pool_t = torch.from_numpy(np.ascontiguousarray(pool, dtype=np.float32))
    k = max(0, min(k, pool_t.shape[0] - (1 if skip_self else 0)))  # an empty pool has no neighbour
    indices = np.empty((queries_t.shape[0], k), dtype=np.int64)
    scores = np.empty((queries_t.shape[0], k), dtype=np.float32)
    for start in range(0, queries_t.shape[0], block):
        sims = queries_t[start: start + block] @ pool_t.t()
        if skip_self:
            rows = torch.arange(sims.shape[0])
            sims[rows, rows + start] = float("-inf")
        best = sims.topk(k, dim=1)
        indices[start: start + block] = best.indices.numpy()
        scores[start: start + block] = best.values.numpy()
    return indices, scores


def class_centroids(vectors: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Each class's centroid on the unit sphere: the mean of its members' unit vectors, scaled back
    to unit length (a class with no member keeps a zero row, which no query is nearest)."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sums = np.zeros((num_classes, vectors.shape[1]), np.float64)
    np.add.at(sums, np.asarray(labels), unit)
    return (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def ranking_scores(neighbours: np.ndarray, labels: np.ndarray, ks: Sequence[int] = (1, 5, 10)) -> dict:
    """Top-k from each sentence's ranked neighbours (itself excluded), by whatever ranked them."""
    labels = np.asarray(labels)
    queries = has_partner(labels)
    result: dict = {f"top{k}": 0.0 for k in ks}
    result["n"] = int(queries.sum())
    if result["n"] == 0:
        return result
    hits = labels[neighbours] == labels[:, None]  # (n, k): is the j-th nearest in the same group
    first_hit = np.where(hits.any(1), hits.argmax(1), hits.shape[1])[queries]
    for k in ks:
        result[f"top{k}"] = float((first_hit < k).mean())
    return result


def open_set_ranking(vectors: np.ndarray, labels: np.ndarray, ks: Sequence[int] = (1, 5, 10)) -> dict:
    return ranking_scores(nearest_neighbours(vectors, max(ks)), labels, ks)


def evaluate_groups(encode: Encode, groups: Groups, ks: Sequence[int] = (1, 5, 10)) -> dict:
    return open_set_ranking(encode(groups.sentences), groups.labels, ks)


# ---------------------------------------------------------------------------------------------
# Pair metrics, in numpy (ties get average ranks, as in scipy)


def average_ranks(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    starts = np.r_[True, sorted_vals[1:] != sorted_vals[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], len(values)] - 1
    ranks = np.empty(len(values))
    ranks[order] = (first[group] + last[group]) / 2.0 + 1.0
    return ranks


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    x, y = np.asarray(x, float) - np.mean(x), np.asarray(y, float) - np.mean(y)
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 0 else 0.0


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    return pearson(average_ranks(x), average_ranks(y))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    labels = np.asarray(labels) > 0.5
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = average_ranks(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The cut with the highest accuracy (predict 1 when score >= threshold); midway between
    neighbouring scores so that it also separates unseen scores sensibly."""
    scores, labels = np.asarray(scores, float), np.asarray(labels) > 0.5
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    # predicting the first i sorted pairs positive: correct = positives among them + negatives after
    correct = np.r_[0, np.cumsum(y)] + np.r_[(~y).sum(), (~y).sum() - np.cumsum(~y)]
    valid = np.r_[True, s[1:] != s[:-1], True]  # cut only between distinct scores
    i = int(np.argmax(np.where(valid, correct, -1)))
    if i == 0:
        return float(s[0] + 1e-6)
    if i == len(s):
        return float(s[-1] - 1e-6)
    return float((s[i - 1] + s[i]) / 2)


def accuracy_f1(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    pred, gold = np.asarray(scores) >= threshold, np.asarray(labels) > 0.5
    tp = (pred & gold).sum()
    f1 = 2 * tp / (pred.sum() + gold.sum()) if pred.sum() + gold.sum() else 0.0
    return float((pred == gold).mean()), float(f1)


def pair_similarities(encode: Encode, pairs: Pairs) -> np.ndarray:
    unique = sorted(set(pairs.first) | set(pairs.second))
    index = {s: i for i, s in enumerate(unique)}
    vectors = encode(unique)
    a = vectors[[index[s] for s in pairs.first]]
    b = vectors[[index[s] for s in pairs.second]]
    return (a * b).sum(1)


def evaluate_pairs(encode: Encode, pairs: Pairs, dev: Pairs | None = None) -> dict:
    dev_scores = pair_similarities(encode, dev) if dev is not None and dev.is_binary else None
    return pair_metrics(pair_similarities(encode, pairs), pairs, dev_scores, dev)


def pair_metrics(scores: np.ndarray, pairs: Pairs, dev_scores: np.ndarray | None = None,
                 dev: Pairs | None = None) -> dict:
    """Metrics of one similarity score per pair, by whatever scored them (cosine, BM25, ...).

    For 0/1 labels the accuracy/F1 threshold is the best one on dev (scores `dev_scores`); with
    no binary dev, the best one on the pairs themselves, which is optimistic and says so.
    """
    result = {"n": len(pairs), "spearman": spearman(scores, pairs.labels),
              "pearson": pearson(scores, pairs.labels)}
    if pairs.is_binary:
        if dev is not None and dev_scores is not None and dev.is_binary:
            threshold, source = best_threshold(dev_scores, dev.labels), "dev"
        else:
            threshold, source = best_threshold(scores, pairs.labels), "best on this file (optimistic)"
        accuracy, f1 = accuracy_f1(scores, pairs.labels, threshold)
        result.update(auc=roc_auc(scores, pairs.labels), accuracy=accuracy, f1=f1,
                      threshold=threshold, threshold_from=source)
    return result


# ---------------------------------------------------------------------------------------------
# Intent matching with abstention: each query takes the intent of its best match, or is refused
# when the best match scores under a threshold.


def abstention_threshold(best_scores: np.ndarray, correct: np.ndarray, out_of_scope: np.ndarray) -> float:
    """The refusal threshold with the highest accuracy over in-scope and out-of-scope queries.

    A query is answered when its best score is at least the threshold. An answer is right when the
    matched intent is; a refusal is right for an out-of-scope query. In-scope queries matched to a
    wrong intent are wrong either way, so the best cut is `best_threshold` over the others, with
    right answers as positives and out-of-scope queries as negatives.
    """
    correct, out_of_scope = np.asarray(correct, bool), np.asarray(out_of_scope, bool)
    counted = correct | out_of_scope
    return best_threshold(np.asarray(best_scores)[counted], correct[counted])


def intent_scores(best_scores: np.ndarray, correct: np.ndarray, out_of_scope: np.ndarray,
                  threshold: float | None = None) -> dict:
    """In-scope accuracy (answered with the right intent) and out-of-scope recall (refused); with
    no threshold every query is answered."""
    correct, out_of_scope = np.asarray(correct, bool), np.asarray(out_of_scope, bool)
    answered = np.ones(len(correct), bool) if threshold is None else np.asarray(best_scores) >= threshold
    in_scope = ~out_of_scope
    result = {"n": int(in_scope.sum()), "accuracy": float((correct & answered)[in_scope].mean())}
    if threshold is not None:
        result.update(accuracy_no_abstention=float(correct[in_scope].mean()),
                      oos_n=int(out_of_scope.sum()),
                      oos_recall=float((~answered[out_of_scope]).mean()) if out_of_scope.any() else float("nan"),
                      overall_accuracy=float(np.where(out_of_scope, ~answered, correct & answered).mean()),
                      threshold=float(threshold))
    return result
