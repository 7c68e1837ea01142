"""Baselines measured beside samesense models (optional extra: pip install 'samesense[baselines]').

    from samesense.baselines import load_baseline
    e5 = load_baseline("e5-small")
    vectors = e5.encode(["how do i reset my pin", "i forgot my pin"])   # (2, 384) unit vectors

Dense baselines have a samesense model's interface (`name`, `dim`, `encode(texts, batch_size=...)`
giving float32 unit rows), so anything that scores a model scores them too. BM25 has no vectors:
it ranks, scores pairs and finds best matches by its own scoring (see bm25.py). Every baseline
says which languages it serves in `languages`.
"""

from __future__ import annotations

import importlib

from ..errors import SamesenseError

# name -> (module, class); imported only when asked for, so the extra stays optional
BASELINES = {
    "bm25": ("samesense.baselines.bm25", "BM25Ranker"),
    "minilm": ("samesense.baselines.dense", "MiniLM"),
    "e5-small": ("samesense.baselines.dense", "E5Small"),
}


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
    return getattr(importlib.import_module(module), cls)(threads=threads)
