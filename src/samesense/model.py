"""A sentence model: tokenizer + encoder + L2 normalisation, saved as a self-describing folder.

    model/
      config.json        what to build: tokenizer and encoder settings, dim, provenance
      vocab.json         the tokenizer's vocabulary
      model.safetensors  the encoder's weights

Loading reads JSON and safetensors only; nothing is unpickled, so a model file from anywhere is
safe to open. Only the encoder is kept: the classification head used in training is not part of
the model.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from . import __version__
from .data import SamesenseError
from .encoders import Encoder, make_encoder
from .files import atomic_dir, atomic_write_json, recover_dir
from .tokenize import Tokenizer, make_tokenizer

CONFIG, VOCAB, WEIGHTS = "config.json", "vocab.json", "model.safetensors"
FORMAT = "samesense-model"


class SentenceModel(nn.Module):
    def __init__(self, tokenizer: Tokenizer, encoder: Encoder, info: dict | None = None):
        super().__init__()
        self.tokenizer, self.encoder = tokenizer, encoder
        self.info = dict(info or {})  # provenance: how it was trained, what it scored
        self.fingerprint = ""  # sha256 of the saved files, set by save() and load()

    @classmethod
    def build(cls, tokenizer: Tokenizer, encoder_config: dict) -> "SentenceModel":
        return cls(tokenizer, make_encoder(encoder_config, len(tokenizer)))

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.encoder(ids, lengths), dim=-1)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.tokenizer.encode(t) for t in texts]

    @staticmethod
    def collate(token_ids: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad id lists into a (batch, longest) tensor; also return the lengths."""
        lengths = torch.tensor([len(ids) for ids in token_ids], dtype=torch.int64)
        batch = torch.zeros(len(token_ids), int(lengths.max()), dtype=torch.int64)
        for row, ids in enumerate(token_ids):
            batch[row, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
        return batch, lengths

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 256,
               show_progress: bool | None = False) -> np.ndarray:
        """Unit vectors, float32, shape (len(texts), dim), in the order of `texts`.

        Sentences are sorted by length before batching, so a batch holds sentences of about one
        length and little time is spent on padding.
        """
        if isinstance(texts, str):
            raise SamesenseError("encode takes a list of sentences, not one string")
        if batch_size < 1:
            raise SamesenseError(f"batch_size must be at least 1, got {batch_size}")
        was_training = self.training
        self.eval()
        token_ids = self.tokenize(texts)
        order = np.argsort([-len(ids) for ids in token_ids], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        device = next(self.parameters()).device
        for start in tqdm(range(0, len(order), batch_size), desc="encode", unit="batch",
                          disable=not show_progress if show_progress is not None else None,
                          leave=False):
            rows = order[start: start + batch_size]
            ids, lengths = self.collate([token_ids[i] for i in rows])
            out[rows] = self(ids.to(device), lengths).float().cpu().numpy()
        self.train(was_training)
        return out

    # -- files --------------------------------------------------------------------------------

    def config(self) -> dict:
        return {"format": FORMAT, "format_version": 1, "samesense_version": __version__,
                "dim": self.dim, "normalized": True, "tokenizer": self.tokenizer.config(),
                "encoder": self.encoder.config(), "info": self.info}

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        weights = {k: v.detach().cpu().contiguous() for k, v in self.encoder.state_dict().items()}
        with atomic_dir(path) as tmp:
            save_file(weights, str(tmp / WEIGHTS))
            atomic_write_json(tmp / VOCAB, {"tokens": self.tokenizer.tokens})
            atomic_write_json(tmp / CONFIG, self.config())
        self.fingerprint = fingerprint(path)
        return path


def fingerprint(path: str | os.PathLike) -> str:
    """sha256 over the three files of a model folder: equal fingerprints, equal vectors."""
    digest = hashlib.sha256()
    for name in (CONFIG, VOCAB, WEIGHTS):
        with open(Path(path) / name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def resolve_model_dir(path: str | os.PathLike) -> Path:
    """A model folder, or a training run folder holding one under `model/`."""
    path = Path(path)
    recover_dir(path)
    if (path / CONFIG).is_file():
        return path
    if (path / "model" / CONFIG).is_file():
        return path / "model"
    if not path.exists():
        raise SamesenseError(f"{path}: no such model folder")
    raise SamesenseError(f"{path}: not a samesense model folder (no {CONFIG})")


def load(path: str | os.PathLike, device: str = "cpu") -> SentenceModel:
    """Load a saved model folder (or a run folder with its best model under `model/`)."""
    path = resolve_model_dir(path)
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
        tokens = json.loads((path / VOCAB).read_text(encoding="utf-8"))["tokens"]
    except FileNotFoundError as err:
        raise SamesenseError(f"{path}: incomplete model folder ({Path(err.filename).name} missing)") from None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise SamesenseError(f"{path}: damaged model folder ({err})") from None
    if config.get("format") != FORMAT:
        raise SamesenseError(f"{path / CONFIG}: not a samesense model config")
    if config["encoder"].get("type") == "gru":
        # folders saved before the readout was a setting used the GRU's final state
        config["encoder"].setdefault("pooling", "last")
    tokenizer = make_tokenizer(config["tokenizer"], tokens)
    model = SentenceModel(tokenizer, make_encoder(config["encoder"], len(tokenizer)), config.get("info"))
    if not (path / WEIGHTS).is_file():
        raise SamesenseError(f"{path}: incomplete model folder ({WEIGHTS} missing)")
    try:
        state = load_file(str(path / WEIGHTS), device=device)
        model.encoder.load_state_dict(state)
    except Exception as err:  # safetensors raises its own error types for damaged files
        raise SamesenseError(f"{path / WEIGHTS}: cannot load weights ({err})") from None
    model.fingerprint = fingerprint(path)
    return model.to(device).eval()
