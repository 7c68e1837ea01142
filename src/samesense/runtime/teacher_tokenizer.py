"""A teacher's own tokenizer (WordPiece, SentencePiece...) for a static model, through the
`tokenizers` library alone: no transformers, no torch, so a static model loads and encodes with
numpy (runtime/static_model.py). Its ids are the teacher's, so the static table has one row per
token of the teacher's vocabulary, as model2vec's has; no special tokens are added ([CLS], [SEP]
carry nothing a mean of token vectors needs).

Saved in its own folder of the model: config.json and tokenizer.json (the library's file).

Speed: for a BERT-style tokenizer (BertNormalizer lower-casing, BertPreTokenizer, WordPiece), an
ASCII sentence is split into words and punctuation marks here, the BERT way, and each word's pieces
are looked up in a cache that the library fills the first time it sees the word. That gives the
library's ids (tests/runtime/test_teacher_tokenizer.py compares them sentence by sentence) at 5-10
times its batch speed on these 2 cores; every other sentence (accents, other scripts, control
characters) and every other kind of tokenizer goes through the library's batch encoding.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from ..bounds import TOKENS
from ..components import CONFIG, Component, build, register
from ..errors import SamesenseError, library_errors
from ..tokenize import TokenIds, Tokenizer

TOKENIZER_FILE = "tokenizer.json"
UNKNOWN_NAMES = ("[UNK]", "<unk>", "<UNK>")
PAD_NAMES = ("[PAD]", "<pad>")
# BERT's split of lower-cased ASCII text: runs of letters and digits, and each punctuation mark alone
BERT_ASCII_WORDS = re.compile(r"[a-z0-9]+|[!-/:-@\[-`{-~]")
ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # BertNormalizer drops these: the library's way
CACHE_WORDS = 1 << 20  # words whose pieces are kept; past it, new words go through the library each time


def teacher_tokenizer_file(source: str) -> Path:
    """The tokenizer.json of a teacher: a folder holding one (a sentence-transformers or Hugging Face
    folder, a samesense model folder with a teacher tokenizer), or a pretrained name (minilm, e5-small)."""
    source = source.removeprefix("baseline:")
    path = Path(source)
    for candidate in (path / TOKENIZER_FILE, path / "tokenizer" / TOKENIZER_FILE, path):
        if candidate.is_file() and candidate.name == TOKENIZER_FILE:
            return candidate
    if path.exists():
        raise SamesenseError(f"{source}: no {TOKENIZER_FILE} there (a teacher tokenizer reads the teacher's "
                             "tokenizers file)")
    from ..encoders.pretrained_files import pretrained_path  # a name: its package's folder

    return teacher_tokenizer_file(str(pretrained_path(source)))


def read_fast(path: Path):
    """The library's tokenizer from its file, set to add nothing and pad nothing."""
    import tokenizers

    with library_errors(path, "cannot read the tokenizer"):
        fast = tokenizers.Tokenizer.from_file(str(path))
    fast.no_padding()
    fast.no_truncation()
    return fast


def is_bert_lowercase(path: Path) -> bool:
    """True when the file's pipeline is BERT's lower-casing one, which BERT_ASCII_WORDS reproduces on
    ASCII text."""
    with open(path, encoding="utf-8") as fh:
        spec = json.load(fh)
    normalizer, pre = spec.get("normalizer") or {}, spec.get("pre_tokenizer") or {}
    return (normalizer.get("type") == "BertNormalizer" and normalizer.get("lowercase") is True
            and normalizer.get("clean_text", True) and pre.get("type") == "BertPreTokenizer"
            and (spec.get("model") or {}).get("type") == "WordPiece")


class TokenizersFile(Tokenizer):
    """What a tokenizer read from a `tokenizers` file (its `fast`, saved as tokenizer.json in its
    folder beside config.json) answers alike, whichever ids it gives (TeacherTokenizer's, or
    pretrained_file.py's with special tokens)."""

    fast: object

    def fit(self, texts) -> "TokenizersFile":
        return self  # the vocabulary is the file's

    @property
    def num_ids(self) -> int:
        return self.fast.get_vocab_size(with_added_tokens=True)

    def __len__(self) -> int:
        return self.num_ids

    @classmethod
    def load(cls, folder: Path, config: dict) -> "TokenizersFile":
        if "file" in config:
            raise SamesenseError(f"{folder / CONFIG}: bad settings for tokenizer {cls.type!r}: unknown setting 'file'")
        if not (folder / TOKENIZER_FILE).is_file():
            raise SamesenseError(f"{folder}: incomplete model folder ({TOKENIZER_FILE} missing)")
        return build(cls, {**config, "file": str(folder / TOKENIZER_FILE)}, folder / CONFIG)


@register
class TeacherTokenizer(TokenizersFile):
    type = "teacher"
    bounds = {"max_len": TOKENS}

    def __init__(self, tokens: list[str] | None = None, max_len: int = 128, min_count: int = 1,
                 normalize: bool = False, unknown_buckets: int = 0, source: str = "", file: str = ""):
        """From `file` (a tokenizer.json; a saved model's own) or else the teacher `source` names.
        normalize: samesense's normalisation before the teacher's own (off: the teacher's alone)."""
        path = Path(file) if file else teacher_tokenizer_file(source)
        self.path, self.source = path, source
        self.fast = read_fast(path)
        self.max_len, self.min_count, self.normalize, self.unknown_buckets = max_len, 1, normalize, 0
        self.glyphs = False
        vocab = self.fast.get_vocab(with_added_tokens=True)
        self.tokens = sorted(vocab, key=vocab.get)
        self.ids = vocab
        unknown = [vocab[name] for name in UNKNOWN_NAMES if name in vocab]
        if not unknown:
            raise SamesenseError(f"{path}: the tokenizer has no unknown token ({' or '.join(UNKNOWN_NAMES)})")
        self.unk_id = unknown[0]
        self.pad_id = next((vocab[name] for name in PAD_NAMES if name in vocab), -1)  # its row stays zero
        self.word_pieces: dict[str, list[int]] | None = {} if is_bert_lowercase(path) else None

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's ids (the teacher's, no special tokens), cut at max_len; an empty text is the
        unknown token, so every text has a vector."""
        cut, unk = self.max_len, [self.unk_id]
        return [row[:cut] if row else unk for row in self._rows(texts)]

    def _rows(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's ids, whole (maybe none)."""
        texts = [self._prepare(t) for t in texts] if self.normalize else list(texts)
        rows: list[list[int] | None] = [None] * len(texts)
        if self.word_pieces is not None:
            self._cached_split(texts, rows)
        rest = [i for i, row in enumerate(rows) if row is None]
        if rest:
            for i, encoding in zip(rest, self.fast.encode_batch_fast([texts[i] for i in rest], add_special_tokens=False)):
                rows[i] = encoding.ids
        return rows

    def _cached_split(self, texts: list[str], rows: list) -> None:
        """Fill the rows of the ASCII texts by BERT's split and the word cache (the others stay None);
        the words not in the cache go through the library in one batch, then their sentences again."""
        pieces, split, control, joined = self.word_pieces, BERT_ASCII_WORDS.findall, ASCII_CONTROL.search, \
            itertools.chain.from_iterable
        todo: Sequence[int] = range(len(texts))
        for _ in range(2):
            get, missed = pieces.get, []
            for i in todo:
                text = texts[i]
                if text.isascii() and (text.isprintable() or not control(text)):
                    try:  # a word not in the cache is None, which cannot be joined
                        rows[i] = [*joined(map(get, split(text.lower())))]
                    except TypeError:
                        missed.append(i)
            if not missed:
                return
            words = list(dict.fromkeys(w for i in missed for w in split(texts[i].lower()) if w not in pieces))
            learned = dict(zip(words, (e.ids for e in self.fast.encode_batch_fast(words, add_special_tokens=False))))
            if len(pieces) + len(learned) <= CACHE_WORDS:
                pieces.update(learned)
            else:  # the cache is full: these words for this call only
                pieces = {**pieces, **learned}
            todo = missed

    def encode(self, text: str) -> list[int]:
        return self.tokenize([text])[0]

    def tokenize_compact(self, texts: Sequence[str], show_progress: bool | None = False,
                         chunk: int = 65536) -> TokenIds:
        """tokenize's ids in a TokenIds, cut and filled with numpy rather than row by row."""
        rows = self._rows(texts)
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int32, count=int(lengths.sum()))
        if len(rows) and (lengths.max() > self.max_len or lengths.min() == 0):
            starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
            flat = flat[np.arange(len(flat)) - starts < self.max_len]  # each row's first max_len
            empty = np.flatnonzero(lengths == 0)
            lengths = np.clip(lengths, 1, self.max_len)
            ends = np.cumsum(lengths)
            flat = np.insert(flat, ends[empty] - 1 - np.arange(len(empty)), self.unk_id)  # an empty text: unknown
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return TokenIds(flat, offsets)

    def tokens_of(self, text: str) -> list[str]:
        return [self.tokens[i] for i in self.encode(text)] if text.strip() else []

    def unknown_fraction(self, texts: Sequence[str]) -> list[float]:
        """Share of each text's tokens that are the teacher's unknown token (emoji, scripts its
        vocabulary lacks); 1.0 for a text with none."""
        return [1.0 if not text.strip() else row.count(self.unk_id) / len(row)
                for text, row in zip(texts, self.tokenize(texts))]

    def config(self) -> dict:
        return {"max_len": self.max_len, "normalize": self.normalize, "source": self.source}

    def save(self, folder: Path) -> None:
        Component.save(self, folder)  # config.json; the vocabulary is the tokenizer file's
        self.fast.save(str(folder / TOKENIZER_FILE))
