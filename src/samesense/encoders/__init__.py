"""The torch components of a sentence model: encoders (token ids -> token vectors), pooling (->
one vector) and projection. Importing this package registers them by type (see components.py).

ENCODERS is what `samesense train --encoder` builds: each an `Encoder` (base.py) that says how it is
made from the run's model settings. A new encoder is its module and one line here."""

from __future__ import annotations

from .base import Encoder, Features, TorchComponent
from .gru import GRUEncoder
from .pooling import POOLINGS, Pooling
from .projection import Projection
from .srnn import SlicedGRUEncoder
from .static import StaticEncoder
from .transformer import PretrainedTokenizer, TransformerEncoder

ENCODERS: dict[str, type[Encoder]] = {cls.type: cls for cls in (GRUEncoder, SlicedGRUEncoder, StaticEncoder,
                                                                TransformerEncoder)}

__all__ = ["ENCODERS", "Encoder", "Features", "GRUEncoder", "POOLINGS", "Pooling", "PretrainedTokenizer", "Projection",
           "SlicedGRUEncoder", "StaticEncoder", "TorchComponent", "TransformerEncoder"]
