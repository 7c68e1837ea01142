"""What `--model` names: one grammar, one resolver, for every command that takes it (faq import and
add, ask, calibrate, serve, eval, similar, bench) and for FaqBank.open.

    minilm, e5-small, bm25    a baseline by name, or written baseline:NAME (bm25 ranks by words: it
                              has no vectors, so it serves eval and similar but not an FAQ bank)
    PATH                      a samesense model folder, or a training run folder with model/ inside
    PATH                      a sentence-transformers folder (modules.json or
                              config_sentence_transformers.json inside), loaded offline

A bare baseline name that is also a path here is refused as ambiguous (write baseline:NAME or
./NAME), so the same words never mean two things. `EncoderSpec.text` is how a bank remembers the
encoder: baseline:NAME, or the folder's absolute path; each loaded encoder carries it as `spec`.

    from samesense.encoder_spec import resolve_encoder
    encoder = resolve_encoder("minilm")           # a TextEncoder; "bm25" gives its ranker
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .baselines import BASELINE_PREFIX, BASELINES, RANKERS
from .errors import SamesenseError
from .files import recover_dir

# either file marks a folder sentence-transformers saved (or can load)
SENTENCE_TRANSFORMERS_MARKERS = ("modules.json", "config_sentence_transformers.json")
KINDS = ("baseline", "samesense", "sentence-transformers")


@dataclass(frozen=True)
class EncoderSpec:
    kind: str  # one of KINDS
    source: str  # the baseline's name, or the folder's absolute path

    @property
    def text(self) -> str:
        """The spec as a bank stores it; parse_encoder_spec(text) gives this spec back."""
        return BASELINE_PREFIX + self.source if self.kind == "baseline" else self.source

    @property
    def has_vectors(self) -> bool:
        return not (self.kind == "baseline" and self.source in RANKERS)


def spec_help(need_vectors: bool = False) -> str:
    """The grammar in a few words, for a command's --help."""
    names = [n for n in BASELINES if not (need_vectors and n in RANKERS)]
    return (f"a samesense model or run folder, a sentence-transformers folder (modules.json inside), or a "
            f"baseline: {', '.join(names)} (or {BASELINE_PREFIX}NAME)")


def parse_encoder_spec(text: str | os.PathLike) -> EncoderSpec:
    """What `text` names, from its words and the file system alone (nothing is loaded)."""
    text = os.fspath(text)
    if text.startswith(BASELINE_PREFIX):
        return _baseline_spec(text[len(BASELINE_PREFIX):], text)
    if text in BASELINES:
        if os.path.lexists(text):
            raise SamesenseError(f"{text}: both a baseline and a path here; write "
                                 f"{BASELINE_PREFIX}{text} for the baseline or ./{text} for the folder")
        return _baseline_spec(text, text)
    return _folder_spec(Path(text))


def _baseline_spec(name: str, text: str) -> EncoderSpec:
    if name not in BASELINES:
        raise SamesenseError(f"{text}: unknown baseline {name!r}: choose from {', '.join(BASELINES)}")
    return EncoderSpec("baseline", name)


def _folder_spec(path: Path) -> EncoderSpec:
    recover_dir(path)  # a samesense save cut off between its renames is put back first
    if not path.exists():
        raise SamesenseError(f"{path}: no such model folder, nor a baseline ({', '.join(BASELINES)})")
    if any((path / marker).is_file() for marker in SENTENCE_TRANSFORMERS_MARKERS):
        return EncoderSpec("sentence-transformers", str(path.resolve()))
    from .runtime.folder import MANIFEST, resolve_model_dir

    try:
        return EncoderSpec("samesense", str(resolve_model_dir(path).resolve()))
    except SamesenseError:
        raise SamesenseError(f"{path}: not a model folder: no {MANIFEST} (samesense) nor "
                             f"{SENTENCE_TRANSFORMERS_MARKERS[0]} (sentence-transformers)") from None


def resolve_encoder(spec: str | os.PathLike | EncoderSpec, threads: int | None = None,
                    need_vectors: str | None = None):
    """The encoder `spec` names, loaded (its `spec` attribute is its EncoderSpec.text): a TextEncoder,
    or for bm25 its ranker (neighbours, pair_scores, best_matches, top_k). `need_vectors`: what
    needs vectors ("an FAQ bank"), to refuse bm25 before loading anything. `threads` caps the CPU
    threads of a baseline or a sentence-transformers model."""
    if not isinstance(spec, EncoderSpec):
        spec = parse_encoder_spec(spec)
    if need_vectors and not spec.has_vectors:
        raise SamesenseError(f"{spec.source} ranks by shared words and has no vectors, which {need_vectors} "
                             f"needs: use {', '.join(n for n in BASELINES if n not in RANKERS)} or a model folder")
    return _load(spec, threads)


def _load(spec: EncoderSpec, threads: int | None):
    if spec.kind == "baseline":
        from .baselines import load_baseline

        return load_baseline(spec.source, threads=threads)
    if spec.kind == "sentence-transformers":
        from .baselines.dense import SentenceTransformerFolder

        return SentenceTransformerFolder(spec.source, threads=threads)
    from .runtime.static_model import load  # numpy for a static model, onnxruntime for an exported one, else torch

    return load(spec.source)
