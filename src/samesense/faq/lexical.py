"""BM25 over a bank's stored questions, for hybrid answers (samesense.hybrid's fused score).

Built from the store's question texts (ids and texts, nothing else), so it holds nothing the store
does not: the bank rebuilds it when the store's generation moves (an add, edit, delete or import,
from this process or another), at the next question, and a reopened bank builds it anew. A bank of
10,000 questions indexes in a fraction of a second.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..baselines.bm25 import BM25Index, BM25Ranker
from ..tokenize import mostly_chinese


class LexicalIndex:
    def __init__(self, ids: np.ndarray, texts: Sequence[str], generation: int):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.generation = generation
        self.bm25 = BM25Ranker()
        self.chinese = mostly_chinese(list(texts))  # word cutting decided once, for every question asked
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
