"""BM25 over words: jieba words for Chinese, word tokens otherwise (bm25s does the scoring).

It ranks sentences without vectors, so it plugs into the open-set protocol through
`neighbours(sentences, k)`, the ranked others of each sentence.
"""

from __future__ import annotations

import logging
import re

import numpy as np

from ..data import SamesenseError, normalize_text

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_WORD = re.compile(r"\w+")


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise SamesenseError(f"the BM25 baseline needs {module}: pip install 'samesense[baselines]'") from None


class BM25Ranker:
    name = "bm25"

    def __init__(self, language: str = "auto"):
        if language not in ("auto", "zh", "en"):
            raise SamesenseError(f"language must be auto, zh or en, got {language!r}")
        self.language = language

    def tokenize(self, sentences: list[str]) -> list[list[str]]:
        chinese = self.language == "zh" or (
            self.language == "auto" and sum(bool(_CJK.search(s)) for s in sentences) > len(sentences) / 2)
        if chinese:
            jieba = _require("jieba")
            jieba.setLogLevel(logging.WARNING)
            return [[w for w in jieba.lcut(normalize_text(s)) if w.strip()] for s in sentences]
        return [_WORD.findall(normalize_text(s)) for s in sentences]

    def neighbours(self, sentences: list[str], k: int) -> np.ndarray:
        """(n, k) indices of each sentence's k best BM25 matches among the others, best first."""
        bm25s = _require("bm25s")
        corpus = self.tokenize(sentences)
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        k = min(k, len(sentences) - 1)
        docs, _ = retriever.retrieve(corpus, k=min(k + 1, len(sentences)), show_progress=False, n_threads=1)
        out = np.empty((len(sentences), k), dtype=np.int64)
        for i, row in enumerate(docs):  # k + 1 results: at least k of them are not the sentence itself
            out[i] = [d for d in row if d != i][:k]
        return out
