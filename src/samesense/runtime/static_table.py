"""A static encoder's table as its files hold it, read with numpy: its settings (checked against the
same bounds as encoders/static.py's StaticEncoder, which takes them from here) and its weights, float32
or int8 with one scale per row (`samesense export MODEL --table OUT --quantize int8`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..bounds import DIM, SHARE, VOCAB
from ..components import WEIGHTS, Component
from ..errors import SamesenseError

STATIC, STATIC_INT8 = "static", "static-int8"  # the encoder types a numpy static model reads


class StaticTable(Component):
    """The static encoder's settings as its config.json holds them, for checking without torch
    (encoders/static.py's StaticEncoder takes the same ones and bounds)."""

    role, type = "encoder", STATIC
    bounds = {"vocab_size": VOCAB, "dim": DIM, "dropout": SHARE}

    def __init__(self, vocab_size: int, dim: int = 256, dropout: float = 0.0):
        self.vocab_size, self.dim, self.dropout = vocab_size, dim, dropout

    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "dim": self.dim, "dropout": self.dropout}


class StaticInt8Table(StaticTable):
    type = STATIC_INT8


def read_table_parts(path: Path, table: StaticTable) -> tuple[np.ndarray, np.ndarray]:
    """(rows, weights): the table's rows (float32; an int8 table's scaled back) and each token's
    weight, read from the safetensors file once its tensors are the shapes and types the settings
    say. A token's vector is its row times its weight; they are kept apart, as training moves them."""
    from safetensors import safe_open

    n, dim = table.vocab_size, table.dim
    expected = ({"embedding.weight": ((n, dim), "I8"), "embedding.scale": ((n,), "F32"), "token_weight": ((n,), "F32")}
                if isinstance(table, StaticInt8Table) else
                {"embedding.weight": ((n, dim), "F32"), "token_weight": ((n,), "F32")})
    if not path.is_file():
        raise SamesenseError(f"{path.parent}: incomplete model folder ({path.name} missing)")
    try:
        with safe_open(str(path), framework="numpy") as fh:
            found = {name: (tuple(fh.get_slice(name).get_shape()), fh.get_slice(name).get_dtype()) for name in fh.keys()}
            if found != expected:
                raise SamesenseError(f"{path}: holds {found}, but the settings say {expected}")
            tensors = {name: fh.get_tensor(name) for name in expected}
    except SamesenseError:
        raise
    except Exception as err:  # safetensors' own errors for a damaged file
        raise SamesenseError(f"{path}: cannot load weights ({err})") from None
    rows = tensors["embedding.weight"].astype(np.float32)
    if "embedding.scale" in tensors:
        rows *= tensors["embedding.scale"][:, None]
    return rows, tensors["token_weight"].astype(np.float32)


def quantized(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 rows, float32 scale per row): row * scale within half a step (scale / 2) of each value."""
    scale = np.abs(vectors).max(axis=1) / 127.0
    scale[scale == 0] = 1.0  # an all-zero row (padding) stays zero
    return np.round(vectors / scale[:, None]).astype(np.int8), scale.astype(np.float32)


class Int8TableFiles(StaticInt8Table):
    """An int8 table to save: its rows already weighted (token_weight all ones)."""

    def __init__(self, vocab_size: int, dim: int = 256, dropout: float = 0.0, vectors: np.ndarray | None = None):
        super().__init__(vocab_size, dim, dropout)
        self.vectors = vectors

    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "dim": self.dim, "dropout": self.dropout}

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        super().save(folder)
        rows, scale = quantized(self.vectors)
        save_file({"embedding.weight": rows, "embedding.scale": scale,
                   "token_weight": np.ones(len(rows), np.float32)}, str(folder / WEIGHTS))
