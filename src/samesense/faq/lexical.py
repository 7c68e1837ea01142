"""BM25 over a bank's stored questions, for hybrid answers (samesense.lexical.hybrid's fused score).

Built from the store's question texts (ids and texts, nothing else), so it holds nothing the store
does not: the bank rebuilds it when the store's generation moves (an add, edit, delete or import,
from this process or another), at the next question, and a reopened bank builds it anew. A bank of
10,000 questions indexes in a fraction of a second.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..lexical.bm25 import BM25Index, BM25Ranker
from ..lexical.hybrid import fuse


class LexicalIndex:
    def __init__(self, ids: np.ndarray, texts: Sequence[str], generation: int):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.generation = generation
        self.bm25 = BM25Ranker()
        self.chinese = self.bm25.is_chinese(list(texts))  # word cutting decided once, for every question asked
        self.index = BM25Index(self.bm25.tokenize(list(texts), self.chinese)) if len(texts) else None
        self.position = {int(qid): row for row, qid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, questions: Sequence[str]) -> np.ndarray:
        """(questions x stored questions) normalised BM25: each over the question's own BM25 score."""
        if self.index is None:
            return np.zeros((len(questions), 0), np.float32)
        return self.index.normalised_scores(self.bm25.tokenize(list(questions), self.chinese))

    def best(self, row_scores: np.ndarray, k: int) -> np.ndarray:
        """The ids of the k best-scoring stored questions of one question's row (those scoring above 0)."""
        k = min(k, len(row_scores))
        top = np.argpartition(-row_scores, k - 1)[:k] if k else np.zeros(0, np.int64)
        return self.ids[top[row_scores[top] > 0]]

    def fused(self, questions: list[str], vectors: np.ndarray, dense_scores: np.ndarray, dense_ids: np.ndarray,
              weight: float, fetch: int, fetch_vectors: Callable) -> tuple[np.ndarray, np.ndarray]:
        """Hybrid scores (samesense.lexical.hybrid) of each question's candidates: the `fetch` best stored
        questions by cosine (`dense_scores`, `dense_ids`: the vector index's answer) and the `fetch`
        best by BM25, each scored (1 - w) * cosine + w * normalised BM25, best first; (scores, ids)
        as the vector index gives them (-1: no more). `fetch_vectors(ids) -> (ids, vectors)`: the
        stored vectors of questions found by their words alone, for their cosines."""
        lexical_scores = self.scores(questions)
        out_scores = np.full((len(questions), 2 * fetch), -np.inf, np.float32)
        out_ids = np.full((len(questions), 2 * fetch), -1, np.int64)
        for row in range(len(questions)):
            cosine = {int(q): float(c) for q, c in zip(dense_ids[row], dense_scores[row]) if q >= 0}
            missing = np.array([q for q in self.best(lexical_scores[row], fetch) if int(q) not in cosine], np.int64)
            if len(missing):
                found_ids, found = fetch_vectors(missing)
                cosine.update(zip(found_ids.tolist(), (found @ vectors[row]).tolist()))
            ids = np.fromiter(cosine, np.int64, len(cosine))
            dense = np.fromiter(cosine.values(), np.float32, len(cosine))
            words = np.array([lexical_scores[row, self.position[int(q)]] if int(q) in self.position else 0.0
                              for q in ids], np.float32)
            fused = fuse(dense, words, weight)
            order = np.argsort(-fused, kind="stable")
            out_scores[row, :len(order)], out_ids[row, :len(order)] = fused[order], ids[order]
        return out_scores, out_ids
