"""Tokenizers: text to lists of token ids.

Character-level is the default (the article's choice, right for Chinese, where words need a
segmenter); the word-level tokenizer is for spaced languages and still splits CJK text into single
characters, so mixed text works. Both share one vocabulary type: id 0 pads, id 1 stands for an
empty text, then come the tokens seen at least `min_count` times in training.

A token not in the vocabulary (too rare in training, or never seen) maps to one of
`unknown_buckets` ids after the vocabulary, chosen by a stable hash of the token (fastText-style):
so two sentences of unknown words get different vectors, and the bucket rows are trained on the
rare tokens that land in them. With no buckets (models trained before the setting), every unknown
token is id 1, <unk>.

With `glyphs` (train --glyphs), a Chinese character not in the vocabulary gets an id of its own
after those, from its glyph index (glyphs.py): the encoder reads it by its unknown row and the shape
of its glyph (encoders/glyph.py). Such a character counts as read in `unknown_fraction`.

A tokenizer is the first component of a model: `tokenize` gives id lists, `collate` pads a batch
of them into the features the encoder reads. It saves its settings in `config.json` and its
vocabulary in `vocab.json`, in its own folder of the model.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .bounds import MAX_VOCAB, MIN_COUNT, TOKENS, UNKNOWN_BUCKETS
from .components import COMPONENTS, CONFIG, Component, build, read_json_object, register
from .data import normalize_text
from .errors import SamesenseError
from .files import atomic_write_json
from .glyphs import GLYPH_COUNT, glyph_char, glyph_index

VOCAB = "vocab.json"

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
GLYPH_SCOPES = ("rare", "all")  # --glyph-scope: whose glyphs a glyph tokenizer gives
CHINESE_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def bucket_of(token: str, buckets: int) -> int:
    """A token's unknown bucket: CRC-32 of its UTF-8 bytes, the same in every process and on every
    machine (Python's hash() of a str is salted per process)."""
    return zlib.crc32(token.encode("utf-8", "surrogatepass")) % buckets


def read_vocabulary(path: Path) -> list[str]:
    """vocab.json's tokens: distinct strings, <pad> and <unk> first, at most MAX_VOCAB of them."""
    tokens = read_json_object(path).get("tokens")
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
        raise SamesenseError(f"{path}: damaged model file (tokens must be a list of strings)")
    if len(tokens) > MAX_VOCAB:
        raise SamesenseError(f"{path}: tokens: {len(tokens)} tokens, more than {MAX_VOCAB}")
    if tokens[:2] != [PAD, UNK]:
        raise SamesenseError(f"{path}: tokens must start with {PAD!r} and {UNK!r}")
    if len(set(tokens)) != len(tokens):
        raise SamesenseError(f"{path}: damaged model file (tokens repeat)")
    return tokens


def mostly_chinese(texts: list[str]) -> bool:
    """True when more than half of the texts hold a Chinese character."""
    return sum(bool(CHINESE_CHAR.search(t)) for t in texts) > len(texts) / 2


class TokenIds(Sequence):
    """The token ids of many sentences in two numpy arrays (all ids end to end, and where each
    sentence starts), instead of a Python list of int lists: a training set of millions of
    sentences in ~4 bytes a token, not ~40. Row i is an int32 array."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray):
        self.flat, self.offsets = flat, offsets

    @classmethod
    def of(cls, rows: Iterable[Sequence[int]]) -> "TokenIds":
        rows = list(rows)
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        flat = np.fromiter((i for ids in rows for i in ids), dtype=np.int32, count=int(lengths.sum()))
        return cls(flat, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))

    @classmethod
    def concatenate(cls, parts: Sequence["TokenIds"]) -> "TokenIds":
        ends = np.cumsum([0] + [len(p.flat) for p in parts[:-1]])
        offsets = [parts[0].offsets[:1]] + [p.offsets[1:] + end for p, end in zip(parts, ends)]
        return cls(np.concatenate([p.flat for p in parts]), np.concatenate(offsets))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> np.ndarray:
        if not -len(self) <= row < len(self):
            raise IndexError(row)
        row %= len(self)
        return self.flat[self.offsets[row]: self.offsets[row + 1]]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenIds):
            return NotImplemented
        return np.array_equal(self.flat, other.flat) and np.array_equal(self.offsets, other.offsets)

    __hash__ = None  # mutable arrays inside: equal by value, so not hashable

    @property
    def nbytes(self) -> int:
        return self.flat.nbytes + self.offsets.nbytes


class Tokenizer(Component):
    """Splits text into tokens and maps them to ids; subclasses define `split` only."""

    role = "tokenizer"
    bounds = {"max_len": TOKENS, "min_count": MIN_COUNT, "unknown_buckets": UNKNOWN_BUCKETS}

    def __init__(self, tokens: list[str] | None = None, max_len: int = 32, min_count: int = 5,
                 normalize: bool = True, unknown_buckets: int = 0, glyphs: bool = False, glyph_scope: str = "all"):
        if max_len < 1:
            raise SamesenseError(f"max_len must be at least 1, got {max_len}")
        if unknown_buckets < 0:
            raise SamesenseError(f"unknown_buckets must be at least 0, got {unknown_buckets}")
        self.max_len, self.min_count, self.normalize = max_len, min_count, normalize
        self.unknown_buckets = unknown_buckets  # 0: one <unk> id, as before the setting
        if glyph_scope not in GLYPH_SCOPES:
            raise SamesenseError(f"glyph_scope must be one of {', '.join(GLYPH_SCOPES)}, got {glyph_scope!r}")
        # which characters' glyphs are read: "all" Chinese characters (Su & Lee's way, and what a config
        # saved without the setting was trained with) or "rare" ones (outside the vocabulary) only
        self.glyphs, self.glyph_scope = glyphs, glyph_scope
        self._glyph_lookups: tuple[np.ndarray, np.ndarray] | None = None
        self.tokens = tokens if tokens is not None else [PAD, UNK]
        if self.tokens[:2] != [PAD, UNK]:
            raise SamesenseError(f"a vocabulary must start with {PAD!r} and {UNK!r}")
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    def split(self, text: str) -> list[str]:
        raise NotImplementedError

    @classmethod
    def settings_from(cls, model, train_sentences: int) -> dict:
        """A tokenizer's settings (with its `type`) from a run's model settings (ModelConfig), its
        min count chosen from the number of training sentences when not given."""
        return {"type": model.tokenizer_kind, "max_len": model.max_len, "min_count": model.min_count_for(train_sentences),
                "normalize": model.normalize, "unknown_buckets": model.unknown_buckets,
                **({"glyphs": True, "glyph_scope": model.glyph_scope} if model.glyphs else {})}

    def fit(self, texts: Iterable[str]) -> "Tokenizer":
        """Build the vocabulary: tokens seen at least min_count times, most frequent first. The
        rarer ones map to their unknown buckets, whose rows training then learns from them."""
        counts = Counter(tok for text in texts for tok in self.split(self._prepare(text)))
        kept = sorted((t for t, c in counts.items() if c >= self.min_count), key=lambda t: (-counts[t], t))
        self.tokens = [PAD, UNK] + kept
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self._glyph_lookups = None
        return self

    def _prepare(self, text: str) -> str:
        return normalize_text(text) if self.normalize else text

    @property
    def num_ids(self) -> int:
        """How many learned ids there are (an embedding table's rows): the vocabulary, then the
        buckets. (With glyphs, `encode` also gives ids past these, which collate maps back.)"""
        return len(self.tokens) + self.unknown_buckets

    def unknown_id(self, token: str) -> int:
        """The id of a token not in the vocabulary: its bucket's, or <unk> when there are none;
        with glyphs, a Chinese character's own id after num_ids."""
        if self.glyphs:
            glyph = glyph_index(token)
            if glyph >= 0:
                return self.num_ids + glyph
        return self.learned_unknown_id(token)

    def learned_unknown_id(self, token: str) -> int:
        if not self.unknown_buckets:
            return UNK_ID
        return len(self.tokens) + bucket_of(token, self.unknown_buckets)

    def glyph_lookups(self) -> tuple[np.ndarray, np.ndarray]:
        """Over every id encode gives (num_ids + GLYPH_COUNT of them): the learned row it reads
        (itself, or for a rare character's own id, the character's bucket or <unk>) and its glyph
        id (0: none; g + 1: glyph g, for the rare Chinese characters, and with glyph_scope "all" for
        the vocabulary's too)."""
        if self._glyph_lookups is None:
            rare = [glyph_char(g) for g in range(GLYPH_COUNT)]
            learned = np.concatenate([np.arange(self.num_ids), [self.learned_unknown_id(c) for c in rare]])
            glyph = np.zeros(self.num_ids + GLYPH_COUNT, dtype=np.int64)
            if self.glyph_scope == "all":
                glyph[: len(self.tokens)] = [glyph_index(t) + 1 for t in self.tokens]
            glyph[self.num_ids:] = np.arange(1, GLYPH_COUNT + 1)
            self._glyph_lookups = learned.astype(np.int64), glyph
        return self._glyph_lookups

    def tokens_of(self, text: str) -> list[str]:
        """The tokens of a text that a model reads: normalised, split, cut at max_len."""
        return self.split(self._prepare(text))[: self.max_len]

    def encode(self, text: str) -> list[int]:
        """Token ids, cut at max_len; never empty (an empty text is one unknown token), so every
        sentence has a vector."""
        ids = self.ids
        return [ids[t] if t in ids else self.unknown_id(t) for t in self.tokens_of(text)] or [UNK_ID]

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def tokenize_compact(self, texts: Sequence[str], show_progress: bool | None = False,
                         chunk: int = 65536) -> TokenIds:
        """tokenize, into a TokenIds, a chunk at a time: the Python lists of one chunk at most
        are alive at once, so millions of sentences fit."""
        from .console import progress

        parts = [TokenIds.of(self.tokenize(texts[start: start + chunk]))
                 for start in progress(range(0, len(texts), chunk), desc="tokenizing", unit="chunk",
                                       show=show_progress if len(texts) > chunk else False)]
        return TokenIds.concatenate(parts) if parts else TokenIds.of([])

    def unknown_fraction(self, texts: Sequence[str]) -> list[float]:
        """For each text, the share of the tokens a model reads (tokens_of) that are not in the
        vocabulary; 1.0 for a text with no tokens. Near 1, the vector says little about the text."""
        fractions = []
        for tokens in map(self.tokens_of, texts):
            fractions.append(sum(t not in self.ids and not (self.glyphs and glyph_index(t) >= 0) for t in tokens)
                             / len(tokens) if tokens else 1.0)
        return fractions

    def collate(self, token_ids: Sequence[list[int]]) -> dict:
        """Pad id lists into the features an encoder reads: input_ids (batch, longest), lengths
        (batch,) on the CPU, attention_mask (batch, longest) bool, True inside a sentence; with
        glyphs, input_ids are the learned rows and glyph_ids (batch, longest) the glyphs."""
        import torch

        lengths = torch.tensor([len(ids) for ids in token_ids], dtype=torch.int64)
        batch = torch.zeros(len(token_ids), int(lengths.max()), dtype=torch.int64)
        for row, ids in enumerate(token_ids):
            batch[row, : len(ids)] = torch.as_tensor(ids, dtype=torch.int64)
        mask = torch.arange(batch.shape[1])[None, :] < lengths[:, None]
        features = {"input_ids": batch, "lengths": lengths, "attention_mask": mask}
        if self.glyphs:
            learned, glyph = self.glyph_lookups()
            ids = batch.numpy()
            features["input_ids"] = torch.from_numpy(learned[ids])
            features["glyph_ids"] = torch.from_numpy(glyph[ids])
        return features

    def __len__(self) -> int:
        return len(self.tokens)

    def config(self) -> dict:
        return {"max_len": self.max_len, "min_count": self.min_count, "normalize": self.normalize,
                "unknown_buckets": self.unknown_buckets,
                **({"glyphs": True, "glyph_scope": self.glyph_scope} if self.glyphs else {})}

    def save(self, folder: Path) -> None:
        super().save(folder)
        atomic_write_json(folder / VOCAB, {"tokens": self.tokens})

    @classmethod
    def load(cls, folder: Path, config: dict) -> "Tokenizer":
        # a config.json without unknown_buckets was saved before the setting: 0, as it was trained
        return build(cls, {**config, "tokens": read_vocabulary(folder / VOCAB)}, folder / CONFIG)


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


@register
class JiebaTokenizer(WordTokenizer):
    """word's tokens, and after each run of Chinese characters the words of two or more that jieba cuts
    from it (its dictionary alone, no HMM guesses) that the vocabulary holds: a static table then holds
    银行 as well as 银 and 行. Words outside the vocabulary are skipped: their characters carry them."""

    type = "jieba"
    _han_run = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,})")

    def split(self, text: str) -> list[str]:  # every word (fit counts them all)
        jieba, pieces = quiet_jieba(), self._han_run.split(text)  # odd pieces: runs of Chinese characters
        words = WordTokenizer.split
        return [token for i, piece in enumerate(pieces) for token in words(self, piece)
                + ([w for w in jieba.lcut(piece, HMM=False) if len(w) > 1] if i % 2 else [])]

    def tokens_of(self, text: str) -> list[str]:
        text = self._prepare(text)
        if text.isascii() or not self._han_run.search(text):  # no two Chinese characters in a row: word's tokens
            return WordTokenizer.split(self, text)[: self.max_len]
        return [t for t in self.split(text) if t in self.ids or not self._han_run.fullmatch(t)][: self.max_len]


@functools.cache  # once, not at every sentence: setting a logger's level clears every logger's cache
def quiet_jieba():
    import jieba

    jieba.setLogLevel(30)  # warnings only: not its "Building prefix dict" lines on stderr
    return jieba


class ReadsText:
    """What a model that encodes through `self.tokenizer` answers from it (the ONNX and the numpy static
    models; SentenceModel says the same at more length)."""

    tokenizer: Tokenizer

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return self.tokenizer.tokenize(texts)

    def unknown_fraction(self, texts: Sequence[str] | str) -> list[float] | float:
        """For each text, the share of its tokens the vocabulary does not hold; one string, one share."""
        if isinstance(texts, str):
            return self.tokenizer.unknown_fraction([texts])[0]
        return self.tokenizer.unknown_fraction(texts)


TOKENIZERS: dict[str, type[Tokenizer]] = {cls.type: cls for cls in (CharTokenizer, WordTokenizer, JiebaTokenizer)}


def make_tokenizer(config: dict, tokens: list[str] | None = None,
                   where: Path | str = "tokenizer settings") -> Tokenizer:
    """A tokenizer from settings with a `type` (an encoder's tokenizer_settings, a legacy folder's):
    any registered tokenizer component (a pretrained transformer's own registers "pretrained" with
    its encoder, encoders/transformer.py)."""
    config = dict(config)
    kind = config.pop("type", None)
    cls = COMPONENTS.get(kind) if isinstance(kind, str) else None
    if cls is None or not issubclass(cls, Tokenizer):
        raise SamesenseError(f"{where}: unknown tokenizer {kind!r}: choose from {', '.join(TOKENIZERS)}")
    return build(cls, {**config, "tokens": tokens}, where)
