"""BM25 over words: jieba words for Chinese, word tokens otherwise (bm25s does the scoring).

BM25 has no vectors, so it serves each protocol directly:
  neighbours(sentences, k)     the ranked others of each sentence (open-set ranking)
  pair_scores(first, second)   one score per pair (pair scoring)
  best_matches(queries, pool)  each query's best pool sentence and its score (intent matching)
  top_k(queries, pool, k)      each query's k best pool sentences and their scores (samesense similar)

Whether text is Chinese is decided once per call, over all its sentences, so that queries and the
sentences they are scored against are always cut into words the same way.
"""

from __future__ import annotations

import logging
import re

import numpy as np

from ..data import normalize_text
from ..errors import SamesenseError
from ..tokenize import mostly_chinese
from ..baselines import require

_WORD = re.compile(r"\w+")


class BM25Index:
    """bm25s's index of some sentences, with its weights as a sparse (sentences x words) matrix,
    so that many (query, sentence) scores come from one sparse product."""

    def __init__(self, corpus: list[list[str]]):
        bm25s = require("bm25s", "BM25")
        sparse = require("scipy.sparse", "BM25")
        self.retriever = bm25s.BM25()
        self.retriever.index(corpus, show_progress=False)
        scores = self.retriever.scores  # CSC over words: for each word, the sentences that hold it
        self.weights = sparse.csc_matrix((scores["data"], scores["indices"], scores["indptr"]),
                                         shape=(scores["num_docs"], len(scores["indptr"]) - 1)).tocsr()
        self._sparse = sparse
        # what a query's self score needs (self_scores): each word's document frequency (the
        # sentences holding it: its column's entries), the number and mean length of sentences
        self.document_frequency = np.diff(scores["indptr"])
        self.size = int(scores["num_docs"])
        self.mean_length = float(np.mean([len(words) for words in corpus])) if corpus else 0.0

    def query_matrix(self, queries: list[list[str]]):
        """(queries x words) counts of each query's words; a word said twice counts twice, as in bm25s."""
        vocab = self.retriever.vocab_dict
        rows, cols = [], []
        for row, words in enumerate(queries):
            ids = [vocab[w] for w in words if w in vocab]
            rows += [row] * len(ids)
            cols += ids
        return self._sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                       shape=(len(queries), self.weights.shape[1]))

    def score(self, queries: list[list[str]], rows: np.ndarray) -> np.ndarray:
        """BM25 score of query i against indexed sentence rows[i]."""
        return np.asarray(self.query_matrix(queries).multiply(self.weights[rows]).sum(1)).ravel()

    def self_scores(self, queries: list[list[str]]) -> np.ndarray:
        """Each query's BM25 score against itself, were it one more indexed sentence of these word
        weights: bm25s's Lucene scoring, sum over the query's words (each time said) of
        idf(w) * tf / (tf + k1 * (1 - b + b * length / mean length)). A word no indexed sentence
        holds counts with the highest idf: the query has weight that nothing here can match."""
        k1, b, vocab = self.retriever.k1, self.retriever.b, self.retriever.vocab_dict
        norm_length = max(self.mean_length, 1e-9)
        out = np.zeros(len(queries), dtype=np.float32)
        for i, words in enumerate(queries):
            counts: dict[str, int] = {}
            for w in words:
                counts[w] = counts.get(w, 0) + 1
            tf_norm = k1 * (1 - b + b * len(words) / norm_length)
            for w, tf in counts.items():
                df = self.document_frequency[vocab[w]] if w in vocab else 0
                idf = np.log(1 + (self.size - df + 0.5) / (df + 0.5))
                out[i] += tf * idf * tf / (tf + tf_norm)
        return out

    def normalised_scores(self, queries: list[list[str]]) -> np.ndarray:
        """(queries x indexed sentences) BM25 scores, each over the query's self score: in [0, 1]
        but for a sentence that repeats the query's words more often than the query does."""
        scores = (self.query_matrix(queries) @ self.weights.T).toarray()
        return np.clip(scores / np.maximum(self.self_scores(queries), 1e-9)[:, None], 0.0, 1.0)

    def normalised_pairs(self, queries: list[list[str]], rows: np.ndarray) -> np.ndarray:
        """Normalised BM25 of query i against indexed sentence rows[i]."""
        return np.clip(self.score(queries, rows) / np.maximum(self.self_scores(queries), 1e-9), 0.0, 1.0)


class BM25Ranker:
    name = "bm25"
    languages = ("zh", "en")

    def __init__(self, language: str = "auto", threads: int | None = None):
        if language not in ("auto", "zh", "en"):
            raise SamesenseError(f"language must be auto, zh or en, got {language!r}")
        self.language = language
        require("bm25s", "BM25")

    def is_chinese(self, sentences: list[str]) -> bool:
        """Whether these sentences are cut into jieba words: the language given, or (auto) theirs."""
        return self.language == "zh" or (self.language == "auto" and mostly_chinese(sentences))

    def tokenize(self, sentences: list[str], chinese: bool | None = None) -> list[list[str]]:
        if chinese is None:
            chinese = self.is_chinese(sentences)
        if chinese:
            jieba = require("jieba", "BM25")
            jieba.setLogLevel(logging.WARNING)
            return [[w for w in jieba.lcut(normalize_text(s)) if w.strip()] for s in sentences]
        return [_WORD.findall(normalize_text(s)) for s in sentences]

    def index(self, sentences: list[str]) -> BM25Index:
        return BM25Index(self.tokenize(sentences))

    def neighbours(self, sentences: list[str], k: int) -> np.ndarray:
        """(n, k) indices of each sentence's k best BM25 matches among the others, best first."""
        corpus = self.tokenize(sentences)
        retriever = BM25Index(corpus).retriever
        k = min(k, len(sentences) - 1)
        docs, _ = retriever.retrieve(corpus, k=min(k + 1, len(sentences)), show_progress=False, n_threads=1)
        out = np.empty((len(sentences), k), dtype=np.int64)
        for i, row in enumerate(docs):  # k + 1 results: at least k of them are not the sentence itself
            out[i] = [d for d in row if d != i][:k]
        return out

    def pair_scores(self, first: list[str], second: list[str]) -> np.ndarray:
        """One score per (first[i], second[i]) pair: BM25 is not symmetric, so the mean of both
        directions (each sentence once the query, once the document), with word weights (IDF)
        from all the sentences of the pairs."""
        unique = list(dict.fromkeys(first + second))
        row = {s: i for i, s in enumerate(unique)}
        words = self.tokenize(unique)
        index = BM25Index(words)
        a, b = np.array([row[s] for s in first]), np.array([row[s] for s in second])
        forward = index.score([words[i] for i in a], b)
        backward = index.score([words[i] for i in b], a)
        return (forward + backward) / 2

    def best_matches(self, queries: list[str], pool: list[str], block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """(index, score) of each query's best BM25 match in `pool` (word weights from the pool)."""
        best, scores = self.top_k(queries, pool, 1, block)
        return best[:, 0], scores[:, 0]

    def top_k(self, queries: list[str], pool: list[str], k: int, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores), each (len(queries), k), of each query's k best BM25 matches in `pool`,
        best first (word weights from the pool; ties in pool order)."""
        chinese = self.is_chinese(pool + queries)
        index = BM25Index(self.tokenize(pool, chinese))
        query_words = self.tokenize(queries, chinese)
        k = min(k, len(pool))
        best = np.empty((len(queries), k), np.int64)
        scores = np.empty((len(queries), k), np.float32)
        for start in range(0, len(queries), block):
            sims = (index.query_matrix(query_words[start: start + block]) @ index.weights.T).toarray()
            # the first of equal scores either way; argmax spares a sort for the one best (intent)
            order = sims.argmax(1)[:, None] if k == 1 else np.argsort(-sims, axis=1, kind="stable")[:, :k]
            best[start: start + block] = order
            scores[start: start + block] = np.take_along_axis(sims, order, axis=1)
        return best, scores
