"""A static model (a table of token vectors, their weighted mean: encoders/static.py) loaded and run
with numpy alone, never importing torch: a cold `samesense ask` on a static bank, or a service that
only encodes, starts in a fraction of a second and encodes at table-lookup speed.

`load` is what samesense.load and every --model spec (encoder_spec) call: a folder whose components
are a tokenizer, a static table and mean pooling gives a StaticModel; an exported one (`samesense
export --onnx`) an OnnxModel, with onnxruntime (runtime/onnx.py); any other folder goes to
model.load (torch). The folder is read and checked as model.load reads it (runtime/folder.py: the
manifest, every file's sha256, the settings against the same bounds), and the vectors are the torch
model's: the mean of table[id] * weight[id] over the sentence's ids, then unit length
(tests/runtime/test_static_model.py compares them).

A table saved as int8 (`samesense export MODEL --table OUT --quantize int8`: one scale per row) is
read back to float32 here; only this loader reads it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..components import WEIGHTS, check_model_files
from ..errors import SamesenseError
from ..tokenize import ReadsText, Tokenizer
from .folder import MANIFEST, resolve_model_dir
from .onnx import is_exported, load_exported
from .saved_static import SavedStatic, static_parts
from .static_table import Int8TableFiles

CHUNK = 16384  # sentences summed at a time
FEW = 32


def load(path: str | os.PathLike, device: str = "cpu"):
    """A saved model folder (or a run folder with model/): a StaticModel (numpy) for a static model,
    else model.load's torch model."""
    folder = resolve_model_dir(path)
    if (folder / MANIFEST).is_file() and device == "cpu":
        check_model_files(folder)
        entries = static_parts(folder / MANIFEST)
        if entries is not None:
            return load_static(folder, entries)
        if is_exported(folder / MANIFEST):  # an ONNX export: onnxruntime, no torch either
            return load_exported(folder)
    from ..model import load as load_torch

    return load_torch(folder, device)


def load_static(folder: Path, entries: list[tuple[str, str, str]]) -> "StaticModel":
    saved = SavedStatic(folder, entries)
    rows, weights = saved.table_parts()
    model = StaticModel(saved.tokenizer, np.ascontiguousarray(rows * weights[:, None], dtype=np.float32), saved.info)
    model.fingerprint, model.spec = saved.fingerprint, str(folder.resolve())
    return model


class StaticModel(ReadsText):
    """Text in, unit vectors out, with numpy (fills samesense.protocols.TextEncoder)."""

    def __init__(self, tokenizer: Tokenizer, vectors: np.ndarray, info: dict | None = None):
        self.tokenizer, self.vectors, self.info = tokenizer, vectors, dict(info or {})
        self.fingerprint, self.spec = "", None

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def encode(self, texts: Sequence[str] | str, batch_size: int = CHUNK,
               show_progress: bool | None = False) -> np.ndarray:
        """Unit vectors, float32, (len(texts), dim); one string gives one vector. batch_size only
        bounds the memory of a chunk: the vectors do not depend on it."""
        if isinstance(texts, str):
            return self.encode([texts])[0]
        if batch_size < 1:
            raise SamesenseError(f"batch_size must be at least 1, got {batch_size}")
        from scipy.sparse import csr_matrix

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = max(batch_size, 256)
        for start in range(0, len(texts), step):
            chunk = texts[start: start + step]
            ids = self.tokenizer.tokenize_compact(chunk)
            lengths = np.diff(ids.offsets)  # every sentence has a token
            if len(chunk) <= FEW:  # a sparse matrix costs more to make than a few sentences' rows to add
                means = np.add.reduceat(self.vectors[ids.flat], ids.offsets[:-1], axis=0) / lengths[:, None]
                out[start: start + len(chunk)] = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
                continue
            # (sentences x vocabulary) of 1/length at each token: one sparse product sums the rows, with no
            # (tokens x dim) copy of them (a gather and np.add.reduceat: 20 times slower here)
            share = csr_matrix((np.repeat(1.0 / lengths, lengths).astype(np.float32), ids.flat, ids.offsets),
                               shape=(len(chunk), len(self.vectors)))
            means = np.asarray(share @ self.vectors, dtype=np.float32)
            means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
            out[start: start + len(chunk)] = means
        return out


def export_int8(source: str | os.PathLike, out: str | os.PathLike, overwrite: bool = False) -> dict:
    """`samesense export MODEL --table OUT --quantize int8`: a static model's table (its rows already
    weighted) as int8 with one float32 scale per row, a quarter of the file; read by this module's load
    alone. Returns what it wrote and how far the vectors moved on the probe sentences."""
    from ..encoders import Pooling
    from ..model import check_model_out, save_model_folder

    model = load(source)
    if not isinstance(model, StaticModel):
        raise SamesenseError(f"{source}: --table exports a static model's table (encoder static, mean pooling); "
                             "use --onnx for this one")
    out = Path(out)
    check_model_out(out, overwrite)
    table = Int8TableFiles(len(model.vectors), model.dim, 0.0, model.vectors)
    info = {**model.info, "exported": {"from_fingerprint": model.fingerprint, "quantization": "int8 per row"}}
    save_model_folder(out, [model.tokenizer, table, Pooling("mean")], model.dim, info)
    exported = load(out)
    probes = PROBES
    cosines = (exported.encode(probes) * model.encode(probes)).sum(1)
    return {"path": str(out), "table_bytes": (out / "encoder" / WEIGHTS).stat().st_size,
            "from_bytes": (Path(model.spec) / "encoder" / WEIGHTS).stat().st_size,
            "lowest_cosine_to_float32": float(cosines.min()), "probe_sentences": len(probes)}


PROBES = ["how do i reset my pin", "I forgot my password!", "what's the weather like tomorrow in Paris?",
          "book a table for two at 7pm", "Can I change the currency of my card?", "x", "",
          "Why was my transfer declined twice today?", "café crème", "中文"]
