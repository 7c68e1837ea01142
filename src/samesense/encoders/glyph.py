"""Glyph vectors (`train --glyphs`): a character's vector also from the shape of its glyph.

Each Chinese character (glyphs.py) has a bitmap; a small CNN (two 3x3 convolutions, each with a
ReLU and a 2x2 max-pool, then a linear map to the embedding size and a layer norm) turns it into a
vector that the encoder adds, scaled by a learned gate that starts at 0, to the character's
learned embedding row. A character too rare for the vocabulary has only its unknown row (<unk>,
or its hash bucket) to learn from; its glyph vector is made by the same CNN that every frequent
character trains, so characters that share components (the radical 氵 of water, 钅 of metal)
get related vectors.

The bitmaps are a buffer of the encoder, saved with its weights (packed bits: 27,584 x 32 bytes
at 16 x 16), so a saved model needs no font. The CNN is trained with the encoder, and can first be
pretrained as a convolutional autoencoder over every glyph of the font (`--glyph-pretrain`).

Glyph ids: 0 for a token with no glyph (padding, a non-Chinese token), g + 1 for glyph g; the
tokenizer's collate gives them beside input_ids. In training each step runs the CNN over the
distinct glyphs of its batch; out of training (no gradient) the vectors of all glyphs are made
once and kept until a weight changes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..console import progress
from ..errors import SamesenseError
from ..glyphs import GLYPH_COUNT, draw_glyphs

CHANNELS = (16, 32)  # of the two convolutions
GATE_INIT = 0.0
GLYPH_SIZE_BOUNDS = {"at_least": 0, "at_most": 64}  # an encoder's glyph_size; 0: no glyphs


def glyph_settings(model) -> dict:
    """An encoder's glyph settings from a run's model settings (--glyphs, --glyph-size)."""
    return {"glyph_size": model.glyph_size} if model.glyphs else {}


def check_glyph_settings(model) -> None:
    if model.glyphs and model.glyph_size % 4:
        raise SamesenseError(f"--glyph-size must be a multiple of 4 (two 2x2 poolings), got {model.glyph_size}")


def glyph_shapes(size: int, dim: int) -> dict[str, tuple[int, ...]]:
    """GlyphEmbedding(size, dim)'s state_dict shapes, under the encoder's `glyphs.` prefix."""
    first, second = CHANNELS
    return {"glyphs.bitmaps": (GLYPH_COUNT, size * size // 8),
            "glyphs.cnn.0.weight": (first, 1, 3, 3), "glyphs.cnn.0.bias": (first,),
            "glyphs.cnn.3.weight": (second, first, 3, 3), "glyphs.cnn.3.bias": (second,),
            "glyphs.cnn.7.weight": (dim, second * (size // 4) ** 2), "glyphs.cnn.7.bias": (dim,),
            "glyphs.cnn.8.weight": (dim,), "glyphs.cnn.8.bias": (dim,), "glyphs.gate": ()}


class GlyphEmbedding(nn.Module):
    def __init__(self, size: int, dim: int):
        super().__init__()
        if size % 4:
            raise SamesenseError(f"glyph_size must be a multiple of 4 (two 2x2 poolings), got {size}")
        self.size, self.dim = size, dim
        self.register_buffer("bitmaps", torch.zeros(GLYPH_COUNT, size * size // 8, dtype=torch.uint8))
        first, second = CHANNELS
        self.cnn = nn.Sequential(nn.Conv2d(1, first, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(first, second, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Flatten(), nn.Linear(second * (size // 4) ** 2, dim),
                                 # without it the linear map's output drifts to one large shared offset
                                 # (norm 26 against rows of 11, spread 0.25 a dimension between
                                 # characters) that swamps the learned rows: the Chinese-union run
                                 # learned almost nothing (dev top-1 0.29 against 0.72)
                                 nn.LayerNorm(dim))
        # how much of the glyph vector a token gets, learned from GATE_INIT = 0: a new encoder starts
        # as one without glyphs. Chosen on lcqmc dev, training on diac2019 one epoch (no glyphs 0.72):
        # glyph vectors added at full weight 0.40, gate from 0.1 0.52, from 0 0.61 (the gate still
        # grows: the glyphs fit the training groups better and transfer worse; see the note of issue 15)
        self.gate = nn.Parameter(torch.tensor(GATE_INIT))
        self._table: torch.Tensor | None = None
        self._table_key: tuple = ()

    def draw(self) -> None:
        """Fill the bitmaps from the font (a fresh model; a loaded one has them in its weights)."""
        self.bitmaps.copy_(torch.from_numpy(draw_glyphs(self.size)))

    def images(self, glyphs: torch.Tensor) -> torch.Tensor:
        """The bitmaps of glyph indices as float images (n, 1, size, size), ink 1."""
        shifts = torch.arange(7, -1, -1, device=self.bitmaps.device, dtype=torch.uint8)
        bits = (self.bitmaps[glyphs][..., None] >> shifts) & 1  # np.packbits' order: high bit first
        return bits.reshape(len(glyphs), 1, self.size, self.size).float()

    def vectors(self, glyphs: torch.Tensor) -> torch.Tensor:
        return self.cnn(self.images(glyphs)) * self.gate

    def forward(self, glyph_ids: torch.Tensor) -> torch.Tensor:
        """A vector for each glyph id (any shape): zeros for 0, the CNN's for g + 1."""
        if not torch.is_grad_enabled():
            return F.embedding(glyph_ids, self.table())
        distinct, inverse = torch.unique(glyph_ids, return_inverse=True)
        vectors = self.vectors((distinct - 1).clamp(min=0)) * (distinct > 0)[:, None]
        return vectors[inverse]

    def table(self, chunk: int = 4096) -> torch.Tensor:
        """The vectors of every glyph id, (GLYPH_COUNT + 1, dim), row 0 zeros; remade only after a
        weight or bitmap changes (an optimizer step, load_state_dict and .to() all change a tensor's
        version or its storage)."""
        watched = [self.bitmaps, *self.parameters()]
        key = tuple((t.data_ptr(), t._version) for t in watched)
        if self._table is None or key != self._table_key:
            with torch.no_grad():
                rows = [self.vectors(torch.arange(start, min(start + chunk, GLYPH_COUNT), device=self.bitmaps.device))
                        for start in range(0, GLYPH_COUNT, chunk)]
                self._table = torch.cat([rows[0].new_zeros(1, self.dim), *rows])
            self._table_key = key
        return self._table

    def pretrain(self, epochs: int, seed: int = 0, batch_size: int = 256, lr: float = 1e-3,
                 show_progress: bool | None = None) -> list[float]:
        """Train the CNN as the encoder half of a convolutional autoencoder over every glyph: a
        decoder (linear, then two transposed convolutions) redraws the bitmap from the vector,
        scored by per-pixel binary cross-entropy; the decoder is dropped afterwards. Returns each
        epoch's mean loss. Seeded, and the global RNG is left as it was."""
        first, second = CHANNELS
        side = self.size // 4
        losses = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            decoder = nn.Sequential(nn.Linear(self.dim, second * side * side), nn.ReLU(),
                                    nn.Unflatten(1, (second, side, side)),
                                    nn.ConvTranspose2d(second, first, 2, stride=2), nn.ReLU(),
                                    nn.ConvTranspose2d(first, 1, 2, stride=2)).to(self.bitmaps.device)
            optimizer = torch.optim.Adam([*self.cnn.parameters(), *decoder.parameters()], lr=lr)
            for _ in progress(range(epochs), desc="pretraining the glyph CNN", unit="epoch", show=show_progress):
                total = 0.0
                for batch in torch.randperm(GLYPH_COUNT).to(self.bitmaps.device).split(batch_size):
                    images = self.images(batch)
                    loss = F.binary_cross_entropy_with_logits(decoder(self.cnn(images)), images)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach()) * len(batch)
                losses.append(total / GLYPH_COUNT)
        return losses


def embed_tokens(encoder: nn.Module, features: dict) -> torch.Tensor:
    """An encoder's token vectors: its learned rows, plus the glyph vectors when it has glyphs."""
    vectors = encoder.embedding(features["input_ids"])
    if encoder.glyphs is not None:
        vectors = vectors + encoder.glyphs(features["glyph_ids"])
    return vectors
