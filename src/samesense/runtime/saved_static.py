"""A static model folder as saved, read without torch: which folders are static models (a tokenizer,
a static table, mean pooling: static_parts), and their parts (SavedStatic): the tokenizer, the table's
settings, its rows and token weights apart. static_model.py runs them with numpy; a static encoder
trained on from a saved model (`train --start-from`, `faq learn` on a static bank) starts from them.
It imports nothing of the torch model (model.py, encoders/), as encoders/static.py reads a
--start-from folder through it.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from ..components import CONFIG, WEIGHTS, build, check_model_files, load_component, read_json_object
from ..errors import SamesenseError
from ..tokenize import Tokenizer
from .folder import MANIFEST, check_file_digests, read_folder, read_manifest, resolve_model_dir
from .static_table import STATIC, STATIC_INT8, StaticInt8Table, StaticTable, read_table_parts

READ_TOKENIZERS = [("tokenizer", kind) for kind in ("word", "char", "jieba", "teacher")]  # no torch, no transformers


def static_parts(manifest_path: Path) -> list[tuple[str, str, str]] | None:
    """The manifest's components when they make a static model numpy can run (a tokenizer, a static
    table, mean pooling), else None (no manifest there included)."""
    if not manifest_path.is_file():
        return None
    _, _, entries = read_manifest(manifest_path)
    if len(entries) != 3 or entries[0][:2] not in READ_TOKENIZERS or entries[1][:2] not in (("encoder", STATIC),
                                                                                    ("encoder", STATIC_INT8)):
        return None
    pooling = manifest_path.parent / entries[2][2] / CONFIG
    if entries[2][:2] != ("pooling", "pooling") or read_json_object(pooling).get("mode") != "mean":
        return None
    return entries


class SavedStatic:
    """A static model folder's parts as saved: its tokenizer, its table's settings, and (table_parts)
    the rows and token weights apart: what load_static runs, and what a static encoder fine-tuned from
    the folder starts from (`train --start-from`)."""

    def __init__(self, folder: Path, entries: list[tuple[str, str, str]] | None = None):
        from . import teacher_tokenizer  # noqa: F401  (registers the "teacher" tokenizer)

        if entries is None:  # a folder named by a setting: checked as load checks it
            folder = resolve_model_dir(folder)
            entries = static_parts(folder / MANIFEST)
            if entries is None:
                raise SamesenseError(f"{folder}: not a static model folder (a tokenizer, a static table and mean "
                                     "pooling: what `samesense distil` and `train --encoder static` save)")
            check_model_files(folder)
        self.folder, self.manifest_path = folder, folder / MANIFEST
        self.manifest, info, _ = read_manifest(self.manifest_path)
        self.info = info or {}
        tokenizer = load_component(folder / entries[0][2])
        if not isinstance(tokenizer, Tokenizer):
            raise SamesenseError(f"{self.manifest_path}: the first component must be a tokenizer")
        if tokenizer.glyphs:
            raise SamesenseError(f"{folder / entries[0][2] / CONFIG}: a static model reads no glyphs")
        self.tokenizer = tokenizer
        self.encoder_folder = folder / entries[1][2]
        config = read_json_object(self.encoder_folder / CONFIG)
        kind = config.pop("type", None)
        self.table = build(StaticInt8Table if kind == STATIC_INT8 else StaticTable, config, self.encoder_folder / CONFIG)
        if self.table.vocab_size < tokenizer.num_ids:
            raise SamesenseError(f"{self.encoder_folder / CONFIG}: vocab_size is {self.table.vocab_size}, but the "
                                 f"tokenizer gives {tokenizer.num_ids} ids")

    @cached_property
    def _read(self) -> tuple[str, dict[str, str]]:
        """(fingerprint, each file's sha256): every byte of the folder read, once, and only when asked
        for (a run reads the --start-from folder's settings and tokenizer several times, its bytes once)."""
        return read_folder(self.folder)

    @property
    def fingerprint(self) -> str:
        return self._read[0]

    def table_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, token weights) as saved (an int8 table's rows scaled back), once every file is
        checked against the manifest."""
        parts = read_table_parts(self.encoder_folder / WEIGHTS, self.table)
        check_file_digests(self.folder, self.manifest, self._read[1])
        return parts
