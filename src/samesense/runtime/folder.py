"""A model folder's files, read without torch: where the folder is, its manifest, and the sha256 of
every file (a model's fingerprint, and the check that no file changed since it was saved).

model.py builds torch models from these; runtime/static_model.py builds a numpy static model from
the same reading, so both refuse a damaged folder with the same words.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..components import Component, load_component, read_json_object
from ..errors import SamesenseError
from ..files import recover_dir
from ..tokenize import Tokenizer

MANIFEST = "manifest.json"
FORMAT = "samesense-model"
FORMAT_VERSION = 2  # of the manifest: a folder written by a newer samesense says a larger one
LEGACY_CONFIG, LEGACY_VOCAB, LEGACY_WEIGHTS = "config.json", "vocab.json", "model.safetensors"


def fingerprint(path: str | os.PathLike) -> str:
    """sha256 over every file of a model folder (names and bytes): equal fingerprints, equal vectors."""
    return read_folder(Path(path))[0]


def read_folder(path: Path) -> tuple[str, dict[str, str]]:
    """In one pass over every file of a model folder: the fingerprint (sha256 over each file's name
    and bytes, in name order) and each file's own sha256 (by its path in the folder, but the
    manifest's, which holds them)."""
    digest, files = hashlib.sha256(), {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        name = file.relative_to(path).as_posix()
        digest.update(name.encode() + b"\0")
        own = hashlib.sha256()
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                own.update(chunk)
        if name != MANIFEST:
            files[name] = own.hexdigest()
    return digest.hexdigest(), files


def check_file_digests(path: Path, manifest: dict, digests: dict[str, str]) -> None:
    """Every file the manifest records (folders saved before it recorded them record none) is there
    with the bytes it was saved with: a damaged file (a flipped bit in the weights reads as other
    weights) is refused, never turned into other vectors."""
    recorded = manifest.get("files")
    if recorded is None:
        return
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        raise SamesenseError(f"{path / MANIFEST}: damaged manifest (files must map each file to its sha256)")
    for name, sha256 in sorted(recorded.items()):
        if digests.get(name) != sha256:
            what = "missing" if name not in digests else "not as saved (its sha256 differs from the manifest's)"
            raise SamesenseError(f"{path / name}: damaged model file: {what}")


def resolve_model_dir(path: str | os.PathLike) -> Path:
    """A model folder, or a training run folder holding one under `model/`."""
    path = Path(path)
    for candidate in (path, path / "model"):
        recover_dir(candidate)
        if (candidate / MANIFEST).is_file() or (candidate / LEGACY_CONFIG).is_file():
            return candidate
    if not path.exists():
        raise SamesenseError(f"{path}: no such model folder")
    raise SamesenseError(f"{path}: not a samesense model folder (no {MANIFEST})")


def read_manifest(manifest_path: Path) -> tuple[dict, dict | None, list[tuple[str, str, str]]]:
    """(the manifest, its info, (role, type, folder) of each component) of a manifest, once its format and version are
    ones this samesense reads."""
    manifest = read_json_object(manifest_path)
    if manifest.get("format") != FORMAT:
        raise SamesenseError(f"{manifest_path}: not a samesense model manifest")
    version = manifest.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise SamesenseError(f"{manifest_path}: damaged manifest (format_version must be an integer)")
    if version > FORMAT_VERSION:
        raise SamesenseError(f"{manifest_path}: made by a newer samesense (format_version {version}; this one reads "
                             f"up to {FORMAT_VERSION}): upgrade samesense to load it")
    info = manifest.get("info")
    if info is not None and not isinstance(info, dict):
        raise SamesenseError(f"{manifest_path}: info must be a JSON object")
    return manifest, info, manifest_entries(manifest_path, manifest.get("components"))


def manifest_entries(manifest_path: Path, components: object) -> list[tuple[str, str, str]]:
    """(role, type, folder) of each listed component; each folder a plain name inside the model
    folder, so a manifest cannot point the loader elsewhere."""
    if not isinstance(components, list) or not components:
        raise SamesenseError(f"{manifest_path}: damaged manifest (components must be a non-empty list)")
    entries = []
    for i, entry in enumerate(components):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(key), str) for key in ("role", "type", "path")):
            raise SamesenseError(f"{manifest_path}: damaged manifest (components[{i}] needs a role, a type and a "
                                 "path, each a string)")
        if entry["path"] in ("", ".", "..") or Path(entry["path"]).name != entry["path"] or "\\" in entry["path"] \
                or "\0" in entry["path"]:
            raise SamesenseError(f"{manifest_path}: components[{i}].path must name a folder inside the model "
                                 f"folder, got {entry['path']!r}")
        entries.append((entry["role"], entry["type"], entry["path"]))
    return entries


def load_parts(manifest_path: Path, entries: list[tuple[str, str, str]]) -> list[Component]:
    """Each listed component, loaded from its folder, once it is what the manifest says it is; the
    first one a tokenizer."""
    parts = []
    for role, kind, folder in entries:
        part = load_component(manifest_path.parent / folder)
        if (part.role, part.type) != (role, kind):  # the manifest and the part must tell one story
            raise SamesenseError(f"{manifest_path}: lists {folder}/ as {role} {kind!r}, but it holds "
                                 f"{part.role} {part.type!r}")
        parts.append(part)
    if not isinstance(parts[0], Tokenizer):
        raise SamesenseError(f"{manifest_path}: the first component must be a tokenizer")
    return parts
