"""Lexical and dense together: BM25 and a model's cosine fused into one score.

    score(q, d) = (1 - w) * cos(q, d) + w * bm25(q, d) / bm25(q, q)

bm25(q, q) is what the query would score against a stored copy of itself, with the word weights
(IDF, average length) of the sentences searched, so the lexical part is the share of the query's
own lexical weight that d matches: 0 when no word is shared, about 1 when d says the query's words
and little else, comparable from one query to the next. That is why a weighted sum of normalised
scores and not reciprocal-rank fusion: ranks say nothing of how good the best match is, and the FAQ
bank answers only above a calibrated score, so the fused score must be one a threshold can read.

The weight w is chosen on a dev groups file (`choose_weight`: the best open-set top-1 over a grid)
and stored with what uses it (the FAQ bank's `hybrid` setting); `HybridRanker` serves the ranking
protocols as bm25 does (neighbours, pair_scores, best_matches, top_k), so eval, similar and bench
take it unchanged.

    from samesense.lexical.hybrid import HybridRanker, choose_weight
    weight, top1_by_weight = choose_weight(model, dev_groups)
    ranker = HybridRanker(model, weight)
    rows, scores = ranker.top_k(["how do i reset my pin"], faq_questions, k=5)
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .bm25 import BM25Index, BM25Ranker
from ..errors import SamesenseError
from ..evaluate import ranking_scores

# the weights choose_weight tries: 0 is the model alone, 1 BM25 alone (normalised)
WEIGHT_GRID = tuple(round(0.05 * i, 2) for i in range(21))


def check_weight(weight: float) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0.0 <= weight <= 1.0:
        raise SamesenseError(f"the hybrid weight must be a number from 0 to 1, got {weight!r}")
    return float(weight)


class HybridIndex:
    """Some sentences, their vectors and their BM25 index, searched with fused scores."""

    def __init__(self, sentences: Sequence[str], vectors: np.ndarray, bm25: BM25Ranker, chinese: bool):
        self.sentences = list(sentences)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.bm25, self.chinese = bm25, chinese
        self.lexical = BM25Index(bm25.tokenize(self.sentences, chinese))

    def __len__(self) -> int:
        return len(self.sentences)

    def parts(self, queries: Sequence[str], query_vectors: np.ndarray,
              block: int = 1024) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(start, cosines, normalised BM25) for each block of queries against every sentence: the
        two scores before fusing, so that many weights can be tried on one pass."""
        words = self.bm25.tokenize(list(queries), self.chinese)
        for start in range(0, len(words), block):
            dense = query_vectors[start: start + block] @ self.vectors.T
            yield start, dense, self.lexical.normalised_scores(words[start: start + block])

    def top_k(self, queries: Sequence[str], query_vectors: np.ndarray, weight: float, k: int,
              skip_self: bool = False, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """(indices, fused scores) of each query's k best sentences, best first. skip_self: the
        queries are the indexed sentences, and a sentence is not its own match."""
        k = max(0, min(k, len(self) - (1 if skip_self else 0)))
        best = np.empty((len(queries), k), np.int64)
        scores = np.empty((len(queries), k), np.float32)
        for start, dense, lexical in self.parts(queries, query_vectors, block):
            fused = fuse(dense, lexical, weight)
            if skip_self:
                rows = np.arange(len(fused))
                fused[rows, rows + start] = -np.inf
            order = np.argsort(-fused, axis=1, kind="stable")[:, :k]
            best[start: start + len(fused)] = order
            scores[start: start + len(fused)] = np.take_along_axis(fused, order, axis=1)
        return best, scores


def fuse(dense: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """(1 - w) * cosine + w * normalised BM25, as float32."""
    return ((1.0 - weight) * dense + weight * lexical).astype(np.float32)


class HybridRanker:
    """A model and BM25 ranking together, with the protocols of a ranker (as bm25 has)."""

    name = "hybrid"

    def __init__(self, encoder, weight: float, bm25: BM25Ranker | None = None, batch_size: int = 512):
        if not hasattr(encoder, "encode"):
            raise SamesenseError("hybrid scoring fuses BM25 with a model's vectors: give a model, not bm25")
        self.encoder, self.weight = encoder, check_weight(weight)
        self.bm25 = bm25 or BM25Ranker()
        self.batch_size = batch_size
        self.languages = getattr(encoder, "languages", ("zh", "en"))
        self.spec = f"hybrid({getattr(encoder, 'spec', 'model')}, weight {self.weight:g})"

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts), batch_size=self.batch_size)

    def index(self, sentences: Sequence[str], vectors: np.ndarray | None = None,
              chinese: bool | None = None) -> HybridIndex:
        vectors = self.vectors(sentences) if vectors is None else vectors
        chinese = self.bm25.is_chinese(list(sentences)) if chinese is None else chinese
        return HybridIndex(sentences, vectors, self.bm25, chinese)

    def neighbours(self, sentences: list[str], k: int) -> np.ndarray:
        """(n, k) indices of each sentence's k best matches among the others, best first."""
        index = self.index(sentences)
        return index.top_k(sentences, index.vectors, self.weight, k, skip_self=True)[0]

    def top_k(self, queries: list[str], pool: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, fused scores) of each query's k best pool sentences (word weights from the pool)."""
        index = self.index(pool, chinese=self.bm25.is_chinese(list(pool) + list(queries)))
        return index.top_k(queries, self.vectors(queries), self.weight, k)

    def best_matches(self, queries: list[str], pool: list[str]) -> tuple[np.ndarray, np.ndarray]:
        best, scores = self.top_k(queries, pool, 1)
        return best[:, 0], scores[:, 0]

    def pair_scores(self, first: list[str], second: list[str]) -> np.ndarray:
        """One fused score per pair: the cosine, and the normalised BM25 of both directions
        averaged (BM25 is not symmetric), with word weights from all the pairs' sentences."""
        unique = list(dict.fromkeys(list(first) + list(second)))
        row = {s: i for i, s in enumerate(unique)}
        index = self.index(unique)
        a, b = np.array([row[s] for s in first]), np.array([row[s] for s in second])
        words = self.bm25.tokenize(unique, index.chinese)
        lexical = (index.lexical.normalised_pairs([words[i] for i in a], b)
                   + index.lexical.normalised_pairs([words[i] for i in b], a)) / 2
        dense = (index.vectors[a] * index.vectors[b]).sum(1)
        return fuse(dense, lexical, self.weight)


def choose_weight(encoder, sentences: Sequence[str], labels: np.ndarray, grid: Sequence[float] = WEIGHT_GRID,
                  bm25: BM25Ranker | None = None, batch_size: int = 512) -> tuple[float, dict[float, float]]:
    """The weight of `grid` with the best open-set top-1 on these dev sentences (each ranked against
    all the others), and the top-1 of every weight tried; of equal top-1, the smaller weight."""
    ranker = HybridRanker(encoder, 0.0, bm25, batch_size)
    index = ranker.index(sentences)
    labels = np.asarray(labels)
    nearest = {w: np.empty((len(index), 1), np.int64) for w in grid}
    for start, dense, lexical in index.parts(sentences, index.vectors):
        rows = np.arange(len(dense))
        for w in grid:
            fused = fuse(dense, lexical, w)
            fused[rows, rows + start] = -np.inf
            nearest[w][start: start + len(fused), 0] = fused.argmax(1)
    top1 = {w: ranking_scores(nearest[w], labels, ks=(1,))["top1"] for w in grid}
    best = max(grid, key=lambda w: (top1[w], -w))
    return best, top1


def describe_weights(top1: dict[float, float], shown: int = 5) -> str:
    """The weights tried by top-1, best first: 'top-1 0.8812 at 0.3, 0.8809 at 0.35, ... (0: 0.8230)'."""
    ranked = sorted(top1, key=lambda w: (-top1[w], w))[:shown]
    alone = f" (model alone, 0: {top1[0.0]:.4f})" if 0.0 in top1 else ""
    return "top-1 " + ", ".join(f"{top1[w]:.4f} at {w:g}" for w in ranked) + alone
