"""Tokenizers: text to lists of token ids.

Character-level is the default (the article's choice, right for Chinese, where words need a
segmenter); the word-level tokenizer is for spaced languages and still splits CJK text into single
characters, so mixed text works. Both share one vocabulary type: id 0 pads, id 1 stands for any
token seen fewer than `min_count` times in training. A tokenizer is saved as `vocab.json` beside
the model, and its settings go into the model's `config.json`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from .data import SamesenseError, normalize_text

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
CHINESE_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def mostly_chinese(texts: list[str]) -> bool:
    """True when more than half of the texts hold a Chinese character."""
    return sum(bool(CHINESE_CHAR.search(t)) for t in texts) > len(texts) / 2


class Tokenizer:
    """Splits text into tokens and maps them to ids; subclasses define `split` only."""

    name = ""

    def __init__(self, tokens: list[str] | None = None, max_len: int = 32, min_count: int = 5,
                 normalize: bool = True):
        if max_len < 1:
            raise SamesenseError(f"max_len must be at least 1, got {max_len}")
        self.max_len, self.min_count, self.normalize = max_len, min_count, normalize
        self.tokens = tokens if tokens is not None else [PAD, UNK]
        if self.tokens[:2] != [PAD, UNK]:
            raise SamesenseError(f"a vocabulary must start with {PAD!r} and {UNK!r}")
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    def split(self, text: str) -> list[str]:
        raise NotImplementedError

    def fit(self, texts: Iterable[str]) -> "Tokenizer":
        """Build the vocabulary: tokens seen at least min_count times, most frequent first."""
        counts = Counter(tok for text in texts for tok in self.split(self._prepare(text)))
        kept = sorted((t for t, c in counts.items() if c >= self.min_count), key=lambda t: (-counts[t], t))
        self.tokens = [PAD, UNK] + kept
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        return self

    def _prepare(self, text: str) -> str:
        return normalize_text(text) if self.normalize else text

    def encode(self, text: str) -> list[int]:
        """Token ids, cut at max_len; never empty (an empty text is one unknown token), so every
        sentence has a vector."""
        ids = [self.ids.get(t, UNK_ID) for t in self.split(self._prepare(text))[: self.max_len]]
        return ids or [UNK_ID]

    def __len__(self) -> int:
        return len(self.tokens)

    def config(self) -> dict:
        return {"type": self.name, "max_len": self.max_len, "min_count": self.min_count,
                "normalize": self.normalize}


class CharTokenizer(Tokenizer):
    name = "char"

    def split(self, text: str) -> list[str]:
        return list(text)


class WordTokenizer(Tokenizer):
    """Words and punctuation marks; each CJK character (or kana, hangul syllable) is a word."""

    name = "word"
    _pattern = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
                          r"|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
                          r"|[^\w\s]")

    def split(self, text: str) -> list[str]:
        return self._pattern.findall(text)


TOKENIZERS: dict[str, type[Tokenizer]] = {cls.name: cls for cls in (CharTokenizer, WordTokenizer)}


def make_tokenizer(config: dict, tokens: list[str] | None = None) -> Tokenizer:
    config = dict(config)
    kind = config.pop("type")
    if kind not in TOKENIZERS:
        raise SamesenseError(f"unknown tokenizer {kind!r}: choose from {', '.join(TOKENIZERS)}")
    return TOKENIZERS[kind](tokens, **config)
