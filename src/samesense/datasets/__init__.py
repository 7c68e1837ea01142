"""Data sets shipped with samesense (see each folder's README.md for source and licence)."""

from __future__ import annotations

from pathlib import Path

from ..errors import SamesenseError

ROOT = Path(__file__).parent


def path(name: str, file: str) -> Path:
    """The path of a bundled file, e.g. path("clinc150", "groups_train.tsv.gz")."""
    found = ROOT / name / file
    if not found.is_file():
        available = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("_"))
        raise SamesenseError(f"no bundled file {name}/{file} (bundled data sets: {', '.join(available)})")
    return found
