"""The methods a benchmark compares, behind what the protocols ask of them:

  neighbours(sentences, k)     ranked others of each sentence        (open-set ranking)
  pair_scores(pairs)           one similarity per pair               (pair scoring)
  nearest(queries, pool)       each query's best pool match + score  (intent matching)
  build(sentences)             turn text into what is searched       (speed; never cached)

A vector method (a samesense model, or a dense baseline) answers all of these from cosine
similarities of cached vectors: `prepare` encodes the union of a run's sentences once, and every
protocol then looks its sentences up. Vectors can also be kept in a folder between runs, named by
the encoder's fingerprint (a hash of a model's files, or of a baseline's package), so that a
rerun encodes only new sentences. BM25 answers everything with its own scoring.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..baselines import BASELINES
from ..encoder_spec import EncoderSpec, parse_encoder_spec, resolve_encoder
from ..errors import SamesenseError
from ..files import atomic_write_bytes
from ..evaluate import class_centroids, nearest_neighbours, pair_similarities, top_k
from ..tokenize import PAD, UNK, mostly_chinese

LANGUAGES = ("zh", "en")


@dataclass
class MethodSpec:
    """What the command line names: --model NAME=MODEL (a samesense model or run folder, a
    sentence-transformers folder, or a baseline: samesense.encoder_spec's grammar), or --baseline NAME."""

    name: str
    source: str  # what --model named (a folder as given, or a baseline), or --baseline's name
    languages: tuple[str, ...] | None = None  # None: inferred when the model is loaded
    named_baseline: bool = False  # from --baseline: a baseline's name, never a folder

    @classmethod
    def parse_model(cls, text: str) -> "MethodSpec":
        """NAME=MODEL, or NAME=MODEL@zh (@en, @zh+en) to give the model's languages."""
        match = re.fullmatch(r"([^=]+)=(.+?)(?:@([a-z+]+))?", text)
        if not match:
            raise SamesenseError(f"--model {text!r}: expected NAME=PATH or NAME=PATH@LANGUAGE")
        name, model, langs = match.groups()
        languages = tuple(langs.split("+")) if langs else None
        if languages and not set(languages) <= set(LANGUAGES):
            raise SamesenseError(f"--model {text!r}: languages are {', '.join(LANGUAGES)} (joined with +)")
        return cls(name.strip(), model, languages)

    @classmethod
    def baseline(cls, name: str) -> "MethodSpec":
        if name not in BASELINES:
            raise SamesenseError(f"unknown baseline {name!r}: choose from {', '.join(BASELINES)}")
        return cls(name, name, named_baseline=True)

    def encoder_spec(self) -> EncoderSpec:
        """What the source names (a folder is looked at each time: by check, then by load)."""
        return EncoderSpec("baseline", self.source) if self.named_baseline else parse_encoder_spec(self.source)

    @property
    def kind(self) -> str:
        """samesense, sentence-transformers or baseline (encoder_spec.KINDS)."""
        return self.encoder_spec().kind

    def check(self) -> None:
        """Refuse now, in one line, what load would refuse after the methods before it ran."""
        if self.kind == "sentence-transformers" and not self.languages:
            raise SamesenseError(f"--model {self.name}={self.source}: a sentence-transformers folder does not say "
                                 "its languages; add @en, @zh or @zh+en")

    def load(self, batch_size: int, threads: int | None) -> "Method":
        spec = self.encoder_spec()
        encoder = resolve_encoder(spec, threads)
        if not hasattr(encoder, "encode"):  # BM25: no vectors
            return RankerMethod(self.name, encoder, self.languages or encoder.languages)
        if spec.kind == "baseline":
            return VectorMethod(self.name, encoder, self.languages or encoder.languages, batch_size, "pretrained")
        about = {"fingerprint": encoder.fingerprint, "path": str(Path(self.source))}
        if spec.kind == "sentence-transformers":
            return VectorMethod(self.name, encoder, self.languages, batch_size, "pretrained", **about)
        languages = self.languages or model_languages(encoder)
        return VectorMethod(self.name, encoder, languages, batch_size, encoder.info.get("train_seconds"), **about)


def model_languages(model) -> tuple[str, ...]:
    """A samesense model's language, from its vocabulary: zh when most tokens are Chinese."""
    tokens = [t for t in model.tokenizer.tokens if t not in (PAD, UNK)]
    return ("zh",) if tokens and mostly_chinese(tokens) else ("en",)


class Method:
    name: str
    languages: tuple[str, ...]
    train_seconds: float | str | None  # seconds, "pretrained", or None when unknown

    def describe(self) -> dict:
        return {"languages": list(self.languages), "train_seconds": self.train_seconds}

    def prepare(self, sentences: Sequence[str], show_progress: bool = False) -> int:
        """Called once with every sentence of the run before any protocol; how many it encoded."""
        return 0

    def load_vectors(self, folder: str | Path, sentences: Sequence[str]) -> int:
        """Read the vectors kept by an earlier run; how many of `sentences` they cover."""
        return 0

    def save_vectors(self, folder: str | Path) -> None:
        pass


class VectorMethod(Method):
    def __init__(self, name: str, encoder, languages: Sequence[str], batch_size: int,
                 train_seconds: float | str | None, **about):
        self.name, self.encoder, self.languages = name, encoder, tuple(languages)
        self.batch_size, self.train_seconds, self.about = batch_size, train_seconds, about
        self.rows: dict[str, int] = {}
        self.vectors = np.zeros((0, encoder.dim), np.float32)

    def describe(self):
        return {**super().describe(), "dim": self.encoder.dim, **self.about}

    def prepare(self, sentences, show_progress=False):
        new = [s for s in dict.fromkeys(sentences) if s not in self.rows]
        if new:
            vectors = self.encoder.encode(new, batch_size=self.batch_size, show_progress=show_progress)
            first = len(self.rows)
            self.rows.update((s, first + i) for i, s in enumerate(new))
            self.vectors = np.concatenate([self.vectors, vectors])
        return len(new)

    def _vector_file(self, folder) -> Path | None:
        fingerprint = getattr(self.encoder, "fingerprint", "")
        return Path(folder) / f"{fingerprint}.npz" if fingerprint else None

    def load_vectors(self, folder, sentences):
        path = self._vector_file(folder)
        if path is None or not path.is_file():
            return 0
        with np.load(path, allow_pickle=False) as kept:  # plain arrays: nothing is unpickled
            kept_sentences = kept["sentences"].tobytes().decode("utf-8").split("\n")
            vectors = kept["vectors"]
        if vectors.shape != (len(kept_sentences), self.encoder.dim):
            raise SamesenseError(f"{path}: damaged vector file (shape {vectors.shape}); delete it")
        self.rows, self.vectors = {s: i for i, s in enumerate(kept_sentences)}, vectors
        return sum(s in self.rows for s in set(sentences))

    def save_vectors(self, folder):
        path = self._vector_file(folder)
        if path is not None:
            buffer = io.BytesIO()
            # sentences as one UTF-8 text, a line each (a sentence never holds a line break)
            text = np.frombuffer("\n".join(self.rows).encode("utf-8"), dtype=np.uint8)
            np.savez(buffer, sentences=text, vectors=self.vectors)
            atomic_write_bytes(path, buffer.getvalue())

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        self.prepare(sentences)  # a no-op when the run prepared them, as it does
        return self.vectors[[self.rows[s] for s in sentences]]

    def build(self, sentences):
        return self.encoder.encode(sentences, batch_size=self.batch_size)

    def neighbours(self, sentences, k):
        return nearest_neighbours(self.encode(sentences), k)

    def pair_scores(self, pairs):
        return pair_similarities(self.encode, pairs)

    def nearest(self, queries, pool):
        best, scores = top_k(self.encode(queries), self.encode(pool), 1)
        return best[:, 0], scores[:, 0]

    def nearest_class(self, queries, pool, labels, num_classes):
        """(class, cosine) of each query's nearest class centroid (the mean of its pool vectors)."""
        centroids = class_centroids(self.encode(pool), labels, num_classes)
        best, scores = top_k(self.encode(queries), centroids, 1)
        return best[:, 0], scores[:, 0]


class RankerMethod(Method):
    """BM25: scores words, not vectors; there is nothing to cache, and no training."""

    def __init__(self, name: str, ranker, languages: Sequence[str]):
        self.name, self.ranker, self.languages = name, ranker, tuple(languages)
        self.train_seconds = "no training"

    def build(self, sentences):
        return self.ranker.index(sentences)

    def neighbours(self, sentences, k):
        return self.ranker.neighbours(sentences, k)

    def pair_scores(self, pairs):
        return self.ranker.pair_scores(pairs.first, pairs.second)

    def nearest(self, queries, pool):
        return self.ranker.best_matches(queries, pool)
