"""Editing a saved model folder on purpose in tests. A manifest records each file's sha256, so a
file changed after saving is refused as damaged; a test that edits a folder says which folder it
means: one saved before manifests recorded the files, or one whose record was made anew."""

from __future__ import annotations

import json
from pathlib import Path

from samesense.model import MANIFEST, read_folder


def forget_file_digests(folder: Path) -> Path:
    """As samesense saved a folder before its manifest recorded each file's sha256."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest.pop("files", None)
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def record_file_digests(folder: Path) -> Path:
    """The manifest's record made anew from the files as they are (an edit made on purpose)."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"] = read_folder(folder)[1]
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder
