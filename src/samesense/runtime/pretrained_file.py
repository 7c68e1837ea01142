"""A pretrained transformer's own tokenizer read from its tokenizer.json by the `tokenizers` library
alone, with the model's special tokens ([CLS] ... [SEP], <s> ... </s>) and its cut at max_len: what
an exported transformer (`samesense export minilm --onnx OUT`, runtime/transformer_export.py) reads
text with, so that it loads and encodes without torch or transformers.

It gives the ids encoders/transformer.py's PretrainedTokenizer gives through transformers (and
sentence-transformers' through it): the same file, the same truncation (the library's, which keeps
room for the special tokens), samesense's normalisation first when the model was trained with it. A
prefix the tokenizer's own normalizer adds (e5's "query: ") is in the file, so it comes along. The
export compares the ids on probe sentences before it writes anything.

Saved in its own folder of the model: config.json and tokenizer.json.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Sequence

from ..bounds import TOKENS
from ..components import Component, register
from ..errors import SamesenseError
from .teacher_tokenizer import PAD_NAMES, TOKENIZER_FILE, UNKNOWN_NAMES, TokenizersFile, read_fast

SIDES = ("right", "left")  # which end a text too long loses, as transformers' truncation_side says


@register
class PretrainedFileTokenizer(TokenizersFile):
    type = "pretrained-file"
    bounds = {"max_len": TOKENS, "truncation_side": {"choices": lambda: list(SIDES)}}

    def __init__(self, tokens: list[str] | None = None, max_len: int = 128, min_count: int = 1,
                 normalize: bool = False, unknown_buckets: int = 0, truncation_side: str = "right",
                 source: str = "", file: str = ""):
        """From `file` (a tokenizer.json). normalize: samesense's normalisation before the file's own
        pipeline; source: where the model came from (said, never read)."""
        if max_len < 3:  # a start token, one token, an end token
            raise SamesenseError(f"max_len must be at least 3 for a pretrained tokenizer, got {max_len}")
        if truncation_side not in SIDES:
            raise SamesenseError(f"truncation_side must be one of {', '.join(SIDES)}, got {truncation_side!r}")
        self.path, self.source, self.truncation_side = Path(file), source, truncation_side
        self.fast = read_fast(self.path)
        self.max_len, self.min_count, self.normalize, self.unknown_buckets = max_len, 1, normalize, 0
        self.glyphs = False
        # the library keeps room for the special tokens when it cuts, as transformers' call does
        self.fast.enable_truncation(max_len, direction=truncation_side)
        self.special_count = self.fast.num_special_tokens_to_add(False)
        # looked up by name, not through the whole vocabulary: e5-small's 250,000 pieces took a second
        # to list at every cold start (tokens and ids are listed when asked for)
        self.unk_id = next((i for i in map(self.fast.token_to_id, UNKNOWN_NAMES) if i is not None), None)
        self.pad_id = next((i for i in map(self.fast.token_to_id, PAD_NAMES) if i is not None), 0)

    @cached_property
    def ids(self) -> dict[str, int]:
        return self.fast.get_vocab(with_added_tokens=True)

    @cached_property
    def tokens(self) -> list[str]:
        return sorted(self.ids, key=self.ids.get)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's ids with the model's special tokens, at most max_len of them."""
        if not len(texts):
            return []
        prepared = [self._prepare(t) for t in texts]
        return [encoding.ids for encoding in self.fast.encode_batch_fast(prepared, add_special_tokens=True)]

    def encode(self, text: str) -> list[int]:
        return self.tokenize([text])[0]

    def _read(self, texts: Sequence[str]) -> tuple[list, int]:
        """Each text's encoding without special tokens, cut to what the model reads of it."""
        encodings = self.fast.encode_batch_fast([self._prepare(t) for t in texts], add_special_tokens=False)
        return encodings, self.max_len - self.special_count

    def tokens_of(self, text: str) -> list[str]:
        """The model's tokens of a text that it reads (its special tokens aside)."""
        (encoding,), kept = self._read([text])
        return [self.fast.id_to_token(i) for i in encoding.ids[:kept]]

    def unknown_fraction(self, texts: Sequence[str]) -> list[float]:
        """Share of the tokens read that are the model's unknown token; 1.0 for a text with none; 0.0
        for a tokenizer without one (byte-level)."""
        encodings, kept = self._read(texts)
        fractions = []
        for encoding in encodings:
            ids = encoding.ids[:kept]
            fractions.append(1.0 if not ids else ids.count(self.unk_id) / len(ids) if self.unk_id is not None else 0.0)
        return fractions

    def config(self) -> dict:
        return {"max_len": self.max_len, "normalize": self.normalize, "truncation_side": self.truncation_side,
                "source": self.source}

    def save(self, folder: Path) -> None:
        Component.save(self, folder)  # config.json; the vocabulary is the tokenizer file's
        self.fast.no_truncation()  # the cut is max_len's, in config.json: the file keeps none of its own
        try:
            self.fast.save(str(folder / TOKENIZER_FILE))
        finally:
            self.fast.enable_truncation(self.max_len, direction=self.truncation_side)
