"""The torch components of a sentence model: encoders (token ids -> token vectors), pooling (->
one vector) and projection. Importing this package registers them by type (see components.py)."""

from __future__ import annotations

from .base import Features, TorchComponent
from .gru import GRUEncoder
from .pooling import POOLINGS, Pooling
from .projection import Projection
from .srnn import SlicedGRUEncoder
from .transformer import PretrainedTokenizer, TransformerEncoder

# what `train --encoder` builds: a GRU or a sliced GRU from scratch, a pretrained transformer (--pretrained)
# to fine-tune
ENCODERS = {cls.type: cls for cls in (GRUEncoder, SlicedGRUEncoder, TransformerEncoder)}

__all__ = ["ENCODERS", "Features", "GRUEncoder", "POOLINGS", "Pooling", "PretrainedTokenizer", "Projection", "SlicedGRUEncoder", "TorchComponent",
           "TransformerEncoder"]
