"""A sentence model: a pipeline of components, then L2 normalisation; saved as a folder of parts.

    model/
      manifest.json        format, dim, provenance, and the components in order: role, type, folder
      tokenizer/           config.json + vocab.json
      encoder/             config.json + weights.safetensors
      pooling/             config.json
      projection/          (optional) config.json + weights.safetensors

The loader reads the manifest and lets each component load its own folder (components.py); only
JSON and safetensors are read, nothing is unpickled, so a model folder from anywhere is safe to
open: a damaged or hostile one is one SamesenseError naming the file and the field, raised before
anything large is allocated. Folders saved before components (config.json + vocab.json +
model.safetensors) still load.
Only the encoder side is kept: the classification head used in training is not part of a model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import __version__
from .components import (CONFIG, Component, build, check_model_files, make_component,
                         read_json_object)
from .console import progress
from .encoders import GRUEncoder, Pooling, Projection
from .errors import SamesenseError
from .files import atomic_dir, atomic_write_json
from .runtime.folder import (FORMAT, FORMAT_VERSION, LEGACY_CONFIG, LEGACY_VOCAB, LEGACY_WEIGHTS,  # noqa: F401
                             MANIFEST, check_file_digests, fingerprint, load_parts, read_folder, read_manifest,
                             resolve_model_dir)
from .runtime.onnx import OnnxModel, is_exported, load_exported
from .tokenize import UNK_ID, VOCAB, Tokenizer, make_tokenizer, read_vocabulary



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
        """A fresh model: `encoder` holds the GRU's settings (its vocabulary is the tokenizer's ids).
        An encoder with glyphs draws them here (the font is needed to build, not to load)."""
        encoder_module = make_component({**encoder, "vocab_size": tokenizer.num_ids}, "encoder settings")
        if getattr(encoder_module, "glyphs", None) is not None:
            encoder_module.glyphs.draw()
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

    def unknown_fraction(self, texts: Sequence[str] | str) -> list[float] | float:
        """For each text, the share of the tokens the model reads that its vocabulary does not
        hold (1.0 for a text with no tokens). Such a text's vector says little about it: its
        unknown tokens share hashed embeddings (or the one <unk>), so a caller can abstain near 1
        (a foreign script, emoji, keyboard mashing) instead of trusting a high cosine. One string
        gives one share, as `encode` gives one vector."""
        if isinstance(texts, str):
            return self.tokenizer.unknown_fraction([texts])[0]
        return self.tokenizer.unknown_fraction(texts)

    def features(self, token_ids: Sequence[list[int]], device: torch.device | str = "cpu") -> dict:
        """A padded batch on `device` (lengths stay on the CPU, where packing wants them)."""
        features = self.tokenizer.collate(token_ids)
        return {k: v if k == "lengths" else v.to(device) for k, v in features.items()}

    @torch.inference_mode()
    def encode(self, texts: Sequence[str] | str, batch_size: int = 256,
               show_progress: bool | None = False) -> np.ndarray:
        """Unit vectors, float32, shape (len(texts), dim), in the order of `texts`; one string
        gives one vector, shape (dim,), as sentence-transformers does (a str is a sequence of
        characters: encoding each one alone is never what is meant).

        Sentences are sorted by length before batching, so a batch holds sentences of about one
        length and little time is spent on padding.
        """
        if isinstance(texts, str):
            return self.encode([texts], batch_size, show_progress)[0]
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

    def save(self, path: str | os.PathLike) -> Path:
        self.fingerprint = save_model_folder(path, self.components, self.dim, self.info)
        return Path(path)


def check_model_out(out: Path, overwrite: bool) -> None:
    """Where a command writes a model folder (export, distil): nothing there, an empty folder, or a model
    folder it may replace with --overwrite; never another folder or file, which saving would replace."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return  # nothing there to lose
    if not (out / MANIFEST).is_file():
        raise SamesenseError(f"{out}: exists and is not a model folder; choose another OUT")
    if not overwrite:
        raise SamesenseError(f"{out}: a model folder already (pass --overwrite to replace it)")


def save_model_folder(path: str | os.PathLike, components: Sequence[Component], dim: int, info: dict) -> str:
    """Write a model folder atomically: each component in its own folder, then the manifest, which
    lists them and records every file's sha256 (so that a damaged file is refused when it loads,
    never read into other vectors). Returns the folder's fingerprint."""
    with atomic_dir(Path(path)) as tmp:
        for component in components:
            component.save(tmp / component.role)
        atomic_write_json(tmp / MANIFEST, {
            "format": FORMAT, "format_version": FORMAT_VERSION, "samesense_version": __version__, "dim": dim,
            "normalized": True, "components": [{"role": c.role, "type": c.type, "path": c.role} for c in components],
            "info": info, "files": read_folder(tmp)[1]})
    return fingerprint(path)


def load(path: str | os.PathLike, device: str = "cpu") -> SentenceModel | OnnxModel:
    """Load a saved model folder (or a run folder with its best model under `model/`); an exported
    one (`samesense export --onnx`) gives an OnnxModel, which encodes as a SentenceModel does."""
    path = resolve_model_dir(path)
    check_model_files(path)
    if (path / MANIFEST).is_file() and is_exported(path / MANIFEST):
        return load_exported(path).to(device)  # the one loader of exported folders, torch or not
    folder_fingerprint, digests = read_folder(path)
    if (path / MANIFEST).is_file():
        model = load_components(path / MANIFEST, digests)
    else:
        model = load_legacy(path)
    model.fingerprint = folder_fingerprint
    model.spec = str(path.resolve())  # how to load it again (encoder_spec): an FAQ bank remembers it
    return model.to(device).eval()


def load_components(manifest_path: Path, digests: dict[str, str]) -> SentenceModel:
    manifest, info, entries = read_manifest(manifest_path)
    parts = load_parts(manifest_path, entries)
    check_parts_fit(manifest_path, parts, [manifest_path.parent / folder / CONFIG for _, _, folder in entries])
    model = checked_to_run(manifest_path, SentenceModel(parts[0], parts[1:], info))
    # last: a hand-made or hostile folder is refused by the checks above with what is wrong in it;
    # this catches what they cannot, bytes changed by damage into other valid values (weights)
    check_file_digests(manifest_path.parent, manifest, digests)
    return model


def check_parts_fit(manifest_path: Path, parts: list[Component], configs: list[Path]) -> None:
    """Parts that loaded one by one must also fit together: one of each role, the encoder's table
    holding every id the tokenizer gives, each stage taking the size the one before gives."""
    roles = [part.role for part in parts]
    for role in roles:
        if roles.count(role) > 1:
            raise SamesenseError(f"{manifest_path}: components list {role} more than once")
    tokenizer, dim = parts[0], None
    for part, config in zip(parts[1:], configs[1:]):
        vocab_size = getattr(part, "vocab_size", None)
        if vocab_size is not None and vocab_size < tokenizer.num_ids:
            raise SamesenseError(f"{config}: vocab_size is {vocab_size}, but the tokenizer gives {tokenizer.num_ids} "
                                 f"ids ({len(tokenizer)} tokens in {configs[0].parent / VOCAB}, then "
                                 f"unknown_buckets {tokenizer.unknown_buckets})")
        reads_glyphs, gives_glyphs = bool(getattr(part, "glyph_size", 0)), bool(getattr(tokenizer, "glyphs", False))
        if part.role == "encoder" and reads_glyphs != gives_glyphs:
            raise SamesenseError(f"{config}: the encoder {'reads' if reads_glyphs else 'has no'} glyphs, but the "
                                 f"tokenizer ({configs[0]}) {'gives' if gives_glyphs else 'gives no'} glyph ids")
        reads = getattr(part, "max_len", None)  # an encoder cut to a length (srnn) must take every token given
        if reads is not None and reads < tokenizer.max_len:
            raise SamesenseError(f"{config}: max_len is {reads}, but the tokenizer gives up to {tokenizer.max_len} "
                                 "tokens")
        in_dim = getattr(part, "in_dim", None)
        if in_dim is not None and dim is not None and in_dim != dim:
            raise SamesenseError(f"{config}: in_dim is {in_dim}, but the stage before it gives {dim}")
        dim = getattr(part, "dim", dim)
    if dim is None:
        raise SamesenseError(f"{manifest_path}: no component makes vectors (an encoder is missing)")


def checked_to_run(manifest_path: Path, model: SentenceModel) -> SentenceModel:
    """The model, once one short sentence has gone through it: stages that each loaded but do not
    run in this order (a pooling before its encoder, no pooling at all) are a damaged manifest."""
    model.eval()
    try:
        with torch.inference_mode():
            model(model.features([[UNK_ID]]))
    except Exception as err:  # whatever a stage raises on features it cannot read
        raise SamesenseError(f"{manifest_path}: damaged manifest: its components do not run in this order "
                             f"({type(err).__name__}: {err})") from None
    return model


def load_legacy(path: Path) -> SentenceModel:
    """A folder saved before components: config.json + vocab.json + model.safetensors, one GRU
    whose readout setting sat in the encoder's config (absent before it was a setting: the final
    state)."""
    config_path = path / LEGACY_CONFIG
    config = read_json_object(config_path)
    if config.get("format") != FORMAT:
        raise SamesenseError(f"{config_path}: not a samesense model config")
    tokenizer_config, encoder_config, info = config.get("tokenizer"), config.get("encoder"), config.get("info")
    if not isinstance(tokenizer_config, dict) or not isinstance(encoder_config, dict):
        raise SamesenseError(f"{path}: damaged model folder (tokenizer and encoder must be JSON objects in "
                             f"{LEGACY_CONFIG})")
    if info is not None and not isinstance(info, dict):
        raise SamesenseError(f"{config_path}: info must be a JSON object")
    tokens = read_vocabulary(path / LEGACY_VOCAB)
    tokenizer = make_tokenizer(tokenizer_config, tokens, config_path)
    encoder_config = dict(encoder_config)
    if encoder_config.pop("type", None) != GRUEncoder.type:
        raise SamesenseError(f"{path}: damaged model folder (encoder type must be {GRUEncoder.type!r})")
    pooling = build(Pooling, {"mode": encoder_config.pop("pooling", "last")}, config_path)
    encoder = GRUEncoder.from_files({**encoder_config, "vocab_size": tokenizer.num_ids}, config_path,
                                    path / LEGACY_WEIGHTS)
    return SentenceModel(tokenizer, [encoder, pooling], info)
