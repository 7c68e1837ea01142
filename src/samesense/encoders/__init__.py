"""The torch components of a sentence model: encoders (token ids -> token vectors), pooling (->
one vector) and projection. Importing this package registers them by type (see components.py)."""

from __future__ import annotations

from .base import Features, TorchComponent
from .gru import GRUEncoder
from .pooling import POOLINGS, Pooling
from .projection import Projection

ENCODERS = {cls.type: cls for cls in (GRUEncoder,)}  # what `train --encoder` can build from scratch

__all__ = ["ENCODERS", "Features", "GRUEncoder", "POOLINGS", "Pooling", "Projection", "TorchComponent"]
