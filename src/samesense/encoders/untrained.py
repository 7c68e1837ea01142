"""A pretrained transformer as a samesense model, before any fine-tuning: what the fine-tuning
starts from, to compare against (benchmarks/e5_faithful.py, tests/test_e5_small.py)."""

from __future__ import annotations

from pathlib import Path

from ..model import SentenceModel
from .pooling import Pooling
from .transformer import PretrainedTokenizer, TransformerEncoder


def pretrained_model(source: str | Path, max_len: int = 512) -> SentenceModel:
    """samesense's model of a pretrained folder or name before any fine-tuning: its tokenizer (our
    normalization off: the model's own reads the text), its network, mean pooling."""
    tokenizer = PretrainedTokenizer(source=str(source), max_len=max_len, normalize=False)
    return SentenceModel(tokenizer, [TransformerEncoder(source=str(source)), Pooling("mean")])
