"""A sentence model: a pipeline of components, then L2 normalisation; saved as a folder of parts.

    model/
      manifest.json        format, dim, provenance, and the components in order: role, type, folder
      tokenizer/           config.json + vocab.json
      encoder/             config.json + weights.safetensors
      pooling/             config.json
      projection/          (optional) config.json + weights.safetensors

The loader reads the manifest and lets each component load its own folder (components.py); only
JSON and safetensors are read, nothing is unpickled, so a model folder from anywhere is safe to
open. Folders saved before components (config.json + vocab.json + model.safetensors) still load.
Only the encoder side is kept: the classification head used in training is not part of a model.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import __version__
from .components import Component, load_component, make_component, read_json_object
from .console import progress
from .encoders import GRUEncoder, Pooling, Projection
from .errors import SamesenseError
from .files import atomic_dir, atomic_write_json, recover_dir
from .tokenize import Tokenizer, make_tokenizer

MANIFEST = "manifest.json"
FORMAT = "samesense-model"
LEGACY_CONFIG, LEGACY_VOCAB, LEGACY_WEIGHTS = "config.json", "vocab.json", "model.safetensors"


class SentenceModel(nn.Module):
    """Text in, unit vectors out (fills samesense.protocols.TextEncoder)."""

    def __init__(self, tokenizer: Tokenizer, stages: Sequence[nn.Module], info: dict | None = None):
        super().__init__()
        self.tokenizer = tokenizer
        self.stages = nn.ModuleDict({stage.role: stage for stage in stages})  # run in this order
        self.info = dict(info or {})  # provenance: how it was trained, what it scored
        self.fingerprint = ""  # sha256 of the saved files, set by save() and load()

    @classmethod
    def build(cls, tokenizer: Tokenizer, encoder: dict, pooling: str = "max",
              projection: int | None = None) -> "SentenceModel":
        """A fresh model: `encoder` holds the GRU's settings (its vocabulary is the tokenizer's)."""
        encoder_module = make_component({**encoder, "vocab_size": len(tokenizer)}, "encoder settings")
        stages = [encoder_module, Pooling(pooling)]
        if projection:
            stages.append(Projection(encoder_module.dim, projection))
        return cls(tokenizer, stages)

    @property
    def encoder(self) -> nn.Module:
        return self.stages["encoder"]

    @property
    def components(self) -> list[Component]:
        return [self.tokenizer, *self.stages.values()]

    @property
    def dim(self) -> int:
        return [stage.dim for stage in self.stages.values() if hasattr(stage, "dim")][-1]

    def forward(self, features: dict) -> torch.Tensor:
        for stage in self.stages.values():
            features = stage(features)
        return F.normalize(features["sentence_embedding"], dim=-1)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return self.tokenizer.tokenize(texts)

    def features(self, token_ids: Sequence[list[int]], device: torch.device | str = "cpu") -> dict:
        """A padded batch on `device` (lengths stay on the CPU, where packing wants them)."""
        features = self.tokenizer.collate(token_ids)
        return {k: v if k == "lengths" else v.to(device) for k, v in features.items()}

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
        for start in progress(range(0, len(order), batch_size), desc="encode", unit="batch", show=show_progress):
            rows = order[start: start + batch_size]
            out[rows] = self(self.features([token_ids[i] for i in rows], device)).float().cpu().numpy()
        self.train(was_training)
        return out

    # -- files --------------------------------------------------------------------------------

    def manifest(self) -> dict:
        return {"format": FORMAT, "format_version": 2, "samesense_version": __version__, "dim": self.dim,
                "normalized": True,
                "components": [{"role": c.role, "type": c.type, "path": c.role} for c in self.components],
                "info": self.info}

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        with atomic_dir(path) as tmp:
            for component in self.components:
                component.save(tmp / component.role)
            atomic_write_json(tmp / MANIFEST, self.manifest())
        self.fingerprint = fingerprint(path)
        return path


def fingerprint(path: str | os.PathLike) -> str:
    """sha256 over every file of a model folder (names and bytes): equal fingerprints, equal vectors."""
    path = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def resolve_model_dir(path: str | os.PathLike) -> Path:
    """A model folder, or a training run folder holding one under `model/`."""
    path = Path(path)
    for candidate in (path, path / "model"):
        recover_dir(candidate)
        if (candidate / MANIFEST).is_file() or (candidate / LEGACY_CONFIG).is_file():
            return candidate
    if not path.exists():
        raise SamesenseError(f"{path}: no such model folder")
    raise SamesenseError(f"{path}: not a samesense model folder (no {MANIFEST})")


def load(path: str | os.PathLike, device: str = "cpu") -> SentenceModel:
    """Load a saved model folder (or a run folder with its best model under `model/`)."""
    path = resolve_model_dir(path)
    if (path / MANIFEST).is_file():
        manifest = read_json_object(path / MANIFEST)
        if manifest.get("format") != FORMAT:
            raise SamesenseError(f"{path / MANIFEST}: not a samesense model manifest")
        try:
            entries = [(entry["role"], entry["type"], entry["path"]) for entry in manifest["components"]]
        except (KeyError, TypeError) as err:
            raise SamesenseError(f"{path / MANIFEST}: damaged manifest ({err})") from None
        parts = []
        for role, kind, folder in entries:
            part = load_component(path / folder)
            if (part.role, part.type) != (role, kind):  # the manifest and the part must tell one story
                raise SamesenseError(f"{path / MANIFEST}: lists {folder}/ as {role} {kind!r}, but it holds "
                                     f"{part.role} {part.type!r}")
            parts.append(part)
        if not parts or not isinstance(parts[0], Tokenizer):
            raise SamesenseError(f"{path / MANIFEST}: the first component must be a tokenizer")
        model = SentenceModel(parts[0], parts[1:], manifest.get("info"))
    else:
        model = load_legacy(path)
    model.fingerprint = fingerprint(path)
    return model.to(device).eval()


def load_legacy(path: Path) -> SentenceModel:
    """A folder saved before components: config.json + vocab.json + model.safetensors, one GRU
    whose readout setting sat in the encoder's config (absent before it was a setting: the final
    state)."""
    config = read_json_object(path / LEGACY_CONFIG)
    if config.get("format") != FORMAT:
        raise SamesenseError(f"{path / LEGACY_CONFIG}: not a samesense model config")
    try:
        tokens = read_json_object(path / LEGACY_VOCAB)["tokens"]
        encoder_config = dict(config["encoder"])
        tokenizer = make_tokenizer(config["tokenizer"], tokens)
        if encoder_config.pop("type") != GRUEncoder.type:
            raise KeyError("encoder type")
        pooling = Pooling(encoder_config.pop("pooling", "last"))
        encoder = GRUEncoder(len(tokens), **encoder_config)
    except (KeyError, TypeError) as err:
        raise SamesenseError(f"{path}: damaged model folder ({err})") from None
    if not (path / LEGACY_WEIGHTS).is_file():
        raise SamesenseError(f"{path}: incomplete model folder ({LEGACY_WEIGHTS} missing)")
    encoder.load_weights(path / LEGACY_WEIGHTS)
    return SentenceModel(tokenizer, [encoder, pooling], config.get("info"))
