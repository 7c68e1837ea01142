"""The teacher's pass over a vocabulary for a static model: each token encoded alone.

With the teacher's own tokenizer, a token is fed to the teacher by its id ([CLS] id [SEP], the mean
of the three outputs, as the teacher's mean pooling reads a one-token sentence), so a word piece
("##ing") is the piece itself, not the text "##ing" tokenized again. That needs the teacher's network
(a sentence-transformers folder: minilm, mpnet, any such folder) and the very vocabulary the static
model's tokenizer has; any other teacher (e5-small's C engine, a samesense model) encodes the token's
text, its word-piece marks taken off.

TokenTeacher is a teacher as train/teacher.py's cache takes one (fingerprint, dim, encode), so the
pass is kept, resumed and shown as any teacher pass; its fingerprint says which way the tokens went
in, so the two kinds of vectors never mix in one cache.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

UNUSED = re.compile(r"\[unused\d+\]")  # BERT's placeholder tokens: no text gives them, they get no row
PIECE_MARKS = re.compile(r"^(##|\u2581)")  # WordPiece's continuation mark, SentencePiece's word start


class TokenTeacher:
    def __init__(self, teacher, tokenizer):
        self.teacher, self.tokenizer = teacher, tokenizer
        self.network = transformer_of(teacher, tokenizer)
        self.fingerprint = f"{teacher.fingerprint}/tokens-by-{'id' if self.network is not None else 'text'}"
        self.dim = teacher.dim

    def encode(self, tokens: Sequence[str], batch_size: int = 256) -> np.ndarray:
        if self.network is None:
            texts = [PIECE_MARKS.sub("", token) or token for token in tokens]
            return np.asarray(self.teacher.encode(texts, batch_size=batch_size), dtype=np.float32)
        import torch

        first, last = self.network_specials
        ids = torch.tensor([[first, self.tokenizer.ids[token], last] for token in tokens], dtype=torch.int64)
        out = []
        with torch.inference_mode():
            for start in range(0, len(ids), batch_size):
                batch = ids[start: start + batch_size]
                hidden = self.network(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
                out.append(hidden.mean(1).float().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    @property
    def network_specials(self) -> tuple[int, int]:
        vocab = self.tokenizer.ids
        return vocab.get("[CLS]", vocab.get("<s>", 0)), vocab.get("[SEP]", vocab.get("</s>", 0))


def transformer_of(teacher, tokenizer):
    """The teacher's transformers network when it reads the same vocabulary as `tokenizer`, else None."""
    model = getattr(teacher, "model", None)
    if model is None:
        return None
    network = getattr(model, "transformer", None)  # TransformerPooling (transformers alone)
    own_tokenizer = getattr(model, "tokenizer", None)
    if network is None:
        try:  # sentence-transformers: its first module holds the network
            network = model[0].auto_model
        except (TypeError, IndexError, AttributeError, KeyError):
            return None
    if own_tokenizer is None or own_tokenizer.get_vocab() != tokenizer.ids:
        return None
    return network.eval()
