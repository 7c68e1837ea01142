"""The article's encoder: token embeddings and a GRU, read over each sentence's own tokens.

Gives every token's output (`token_embeddings`, zero past a sentence's end) and the last layer's
final state (`final_state`); a pooling component makes one vector of them. The sequence is packed,
so the GRU stops at each sentence's own end: padding never reaches a vector, and a sentence
encodes the same alone or beside longer ones.

Packed sequences do not export to ONNX, so while exporting the GRU takes a mask-based path
(`forward_padded`) with the same outputs and the same guarantee: it runs over the padded batch,
reads each sentence backwards from its own last token, and takes outputs by each sentence's length.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..bounds import DIM, LAYERS, SHARE, VOCAB
from ..components import register
from .base import Encoder, Features
from .glyph import GLYPH_SIZE_BOUNDS, GlyphEmbedding, check_glyph_settings, embed_tokens, glyph_settings, glyph_shapes


@register
class GRUEncoder(Encoder):
    type = "gru"
    bounds = {"embed_dim": DIM, "hidden_dim": DIM, "num_layers": LAYERS, "dropout": SHARE, "vocab_size": VOCAB,
              "glyph_size": GLYPH_SIZE_BOUNDS}

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_dim: int = 128,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0, glyph_size: int = 0):
        super().__init__()
        self.vocab_size, self.embed_dim, self.hidden_dim = vocab_size, embed_dim, hidden_dim
        self.num_layers, self.bidirectional, self.dropout_p = num_layers, bidirectional, dropout
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.glyph_size = glyph_size  # 0: no glyphs
        self.glyphs = GlyphEmbedding(glyph_size, embed_dim) if glyph_size else None
        self.dropout = nn.Dropout(dropout)  # on token embeddings, in training only
        self.gru = nn.GRU(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.dim = hidden_dim * (2 if bidirectional else 1)

    @classmethod
    def weight_shapes(cls, vocab_size: int, embed_dim: int, hidden_dim: int, num_layers: int, bidirectional: bool,
                      glyph_size: int, **_) -> dict[str, tuple[int, ...]]:
        """nn.Embedding's and nn.GRU's tensors (and the glyph CNN's), named as in their state_dict."""
        shapes = {"embedding.weight": (vocab_size, embed_dim), **(glyph_shapes(glyph_size, embed_dim) if glyph_size else {})}
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            inputs = embed_dim if layer == 0 else hidden_dim * directions  # a layer reads the one below
            for suffix in ("", "_reverse")[:directions]:
                shapes[f"gru.weight_ih_l{layer}{suffix}"] = (3 * hidden_dim, inputs)  # 3 gates
                shapes[f"gru.weight_hh_l{layer}{suffix}"] = (3 * hidden_dim, hidden_dim)
                shapes[f"gru.bias_ih_l{layer}{suffix}"] = (3 * hidden_dim,)
                shapes[f"gru.bias_hh_l{layer}{suffix}"] = (3 * hidden_dim,)
        return shapes

    @classmethod
    def settings_from(cls, model) -> dict:
        return {"embed_dim": model.embed_dim, "hidden_dim": model.hidden_dim, "num_layers": model.num_layers,
                "bidirectional": model.bidirectional, "dropout": model.dropout, **glyph_settings(model)}

    @classmethod
    def check_settings(cls, model) -> None:
        check_glyph_settings(model)

    def forward(self, features: Features) -> Features:
        if torch.onnx.is_in_onnx_export():  # packing does not export; this path gives the same vectors
            return self.forward_padded(features)
        lengths = features["lengths"].cpu()
        packed = pack_padded_sequence(self.dropout(embed_tokens(self, features)), lengths,
                                      batch_first=True, enforce_sorted=False)
        outputs, hidden = self.gru(packed)  # hidden: (layers * directions, batch, hidden)
        directions = 2 if self.bidirectional else 1
        features["final_state"] = torch.cat(list(hidden[-directions:]), dim=-1)
        features["token_embeddings"], _ = pad_packed_sequence(outputs, batch_first=True)
        return features

    def forward_padded(self, features: Features) -> Features:
        """forward's outputs without packing, one layer and one direction at a time. The forward
        direction reads the padded batch as it is: its output at a token depends on the tokens
        before it alone. The backward direction reads each sentence reversed within its own length,
        so it starts at the sentence's last token, never at padding. Outputs past a sentence's end
        are zeroed (as unpacking gives them), and the final state is the output at the sentence's
        own last token (forward) and first token (backward)."""
        input_ids = features["input_ids"]
        lengths = features["lengths"].to(input_ids.device)
        steps = torch.arange(input_ids.shape[1], device=input_ids.device)
        inside = (steps[None, :] < lengths[:, None])[..., None]
        reversal = reversal_index(lengths, input_ids.shape[1])
        outputs = self.dropout(embed_tokens(self, features))
        for layer in range(self.num_layers):
            if layer:  # nn.GRU's dropout: on every layer's outputs but the last's
                outputs = F.dropout(outputs, self.gru.dropout, self.training)
            directions = [self.run_direction(outputs, layer)]
            if self.bidirectional:  # each sentence reversed within its length, read, then put back in order
                backward = self.run_direction(reordered(outputs, reversal), layer, suffix="_reverse")
                directions.append(reordered(backward, reversal))
            outputs = torch.cat(directions, dim=-1) * inside
        features["token_embeddings"] = outputs
        at_last_token = reordered(outputs, (lengths - 1)[:, None])[:, 0]
        final = [at_last_token[:, : self.hidden_dim]]
        if self.bidirectional:
            final.append(outputs[:, 0, self.hidden_dim:])
        features["final_state"] = torch.cat(final, dim=-1)
        return features

    def run_direction(self, inputs: torch.Tensor, layer: int, suffix: str = "") -> torch.Tensor:
        """One direction of one layer of self.gru (suffix "_reverse": the backward one's weights),
        read first to last over `inputs` (batch, time, features) from a zero state: the outputs at
        every step."""
        weights = [getattr(self.gru, f"{name}_l{layer}{suffix}")
                   for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        start = inputs.new_zeros(1, inputs.shape[0], self.hidden_dim)
        # the op nn.GRU runs, with one layer's weights: exports as one ONNX GRU node
        outputs, _ = torch.gru(inputs, start, weights, True, 1, 0.0, self.training, False, True)
        return outputs

    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "embed_dim": self.embed_dim, "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers, "bidirectional": self.bidirectional, "dropout": self.dropout_p,
                **({"glyph_size": self.glyph_size} if self.glyph_size else {})}


def reversal_index(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(batch, steps) positions that read each row's first `length` steps backwards and leave its
    padding in place; applied twice, it gives the row back."""
    positions = torch.arange(steps, device=lengths.device)[None, :]
    return torch.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)


def reordered(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (batch, time, features) taken at index (batch, k) along time: (batch, k, features)."""
    return values.gather(1, index[..., None].expand(-1, -1, values.shape[-1]))
