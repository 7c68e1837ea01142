"""Tokenizers: text to lists of token ids.

Character-level is the default (the article's choice, right for Chinese, where words need a
segmenter); the word-level tokenizer is for spaced languages and still splits CJK text into single
characters, so mixed text works. Both share one vocabulary type: id 0 pads, id 1 stands for any
token seen fewer than `min_count` times in training.

A tokenizer is the first component of a model: `tokenize` gives id lists, `collate` pads a batch
of them into the features the encoder reads. It saves its settings in `config.json` and its
vocabulary in `vocab.json`, in its own folder of the model.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

from .components import Component, build, read_json_object, register
from .data import normalize_text
from .errors import SamesenseError
from .files import atomic_write_json

VOCAB = "vocab.json"

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
CHINESE_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def mostly_chinese(texts: list[str]) -> bool:
    """True when more than half of the texts hold a Chinese character."""
    return sum(bool(CHINESE_CHAR.search(t)) for t in texts) > len(texts) / 2


class Tokenizer(Component):
    """Splits text into tokens and maps them to ids; subclasses define `split` only."""

    role = "tokenizer"

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

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    @staticmethod
    def collate(token_ids: Sequence[list[int]]) -> dict:
        """Pad id lists into the features an encoder reads: input_ids (batch, longest), lengths
        (batch,) on the CPU, attention_mask (batch, longest) bool, True inside a sentence."""
        import torch

        lengths = torch.tensor([len(ids) for ids in token_ids], dtype=torch.int64)
        batch = torch.zeros(len(token_ids), int(lengths.max()), dtype=torch.int64)
        for row, ids in enumerate(token_ids):
            batch[row, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
        mask = torch.arange(batch.shape[1])[None, :] < lengths[:, None]
        return {"input_ids": batch, "lengths": lengths, "attention_mask": mask}

    def __len__(self) -> int:
        return len(self.tokens)

    def config(self) -> dict:
        return {"max_len": self.max_len, "min_count": self.min_count, "normalize": self.normalize}

    def save(self, folder: Path) -> None:
        super().save(folder)
        atomic_write_json(folder / VOCAB, {"tokens": self.tokens})

    @classmethod
    def load(cls, folder: Path, config: dict) -> "Tokenizer":
        tokens = read_json_object(folder / VOCAB).get("tokens")
        if not isinstance(tokens, list):
            raise SamesenseError(f"{folder / VOCAB}: damaged model file (no list of tokens)")
        return build(cls, {**config, "tokens": tokens}, folder)


@register
class CharTokenizer(Tokenizer):
    type = "char"

    def split(self, text: str) -> list[str]:
        return list(text)


@register
class WordTokenizer(Tokenizer):
    """Words and punctuation marks; each CJK character (or kana, hangul syllable) is a word."""

    type = "word"
    _pattern = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
                          r"|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
                          r"|[^\w\s]")

    def split(self, text: str) -> list[str]:
        return self._pattern.findall(text)


TOKENIZERS: dict[str, type[Tokenizer]] = {cls.type: cls for cls in (CharTokenizer, WordTokenizer)}


def make_tokenizer(config: dict, tokens: list[str] | None = None) -> Tokenizer:
    config = dict(config)
    kind = config.pop("type")
    if kind not in TOKENIZERS:
        raise SamesenseError(f"unknown tokenizer {kind!r}: choose from {', '.join(TOKENIZERS)}")
    return TOKENIZERS[kind](tokens, **config)
