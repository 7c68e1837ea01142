"""Atomic writes: a file or a folder is either the old one or the new one, never half of each.

Everything is written beside its target under a temporary name, flushed to disk, then renamed
over it; a crash at any moment leaves at worst a stray temporary that the next write replaces.
The temporary is made with the mode a plain open() or mkdir() gives (0666 or 0777, less the umask,
which the kernel applies), not tempfile's private 0600/0700; a file that is replaced keeps its mode.
Also the JSON that the commands print (json_text: no NaN, which is not JSON).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import Callable, Iterator


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def make_parent(path: Path) -> None:
    """The folder `path` goes in, made if missing; a file in its place is an error saying so (mkdir
    would say "File exists")."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent)) from None


def _temporary(path: Path, make: Callable[[str], object]):
    """make(name) for a new name beside `path` (.NAME.RANDOM.tmp), retried while the name is taken;
    returns what make returned and the name."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return make(tmp), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    if path.is_dir():  # else the rename fails naming the temporary, not the path given
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    make_parent(path)
    fd, tmp = _temporary(path, lambda name: os.open(name, _NEW_FILE, 0o666))  # as open(): less the umask
    try:
        with os.fdopen(fd, "wb") as fh:
            with contextlib.suppress(FileNotFoundError):  # a file replaced keeps its mode, as with open()
                os.chmod(fh.fileno() if os.chmod in os.supports_fd else tmp, stat.S_IMODE(os.stat(path).st_mode))
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def json_text(obj, **options) -> str:
    """JSON that every reader accepts, for what the commands print: Python writes NaN and
    Infinity, which are not JSON; an undefined number (a ROC AUC with one class) is null."""
    return json.dumps(_finite_or_none(obj), allow_nan=False, **options)


def _finite_or_none(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: _finite_or_none(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(value) for value in obj]
    return obj


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder; when the block ends without error, it replaces `path`.

    Two renames swap the folders; between them `path` is briefly missing, and the old folder is
    still there under `.<name>.old` (recover_dir puts it back if a crash fell in that gap).
    """
    path = Path(path)
    make_parent(path)
    recover_dir(path)
    tmp = Path(_temporary(path, lambda name: os.mkdir(name, 0o777))[1])  # as mkdir(): less the umask
    try:
        yield tmp
        for child in tmp.rglob("*"):
            if child.is_file():
                with open(child, "rb") as fh:
                    os.fsync(fh.fileno())
            else:
                _fsync_dir(child)
        old = path.parent / f".{path.name}.old"
        if old.exists():
            shutil.rmtree(old)
        if path.exists():
            os.rename(path, old)
        os.rename(tmp, path)
        _fsync_dir(path.parent)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def recover_dir(path: str | os.PathLike) -> None:
    """Put back the old copy of a folder whose atomic replacement was cut off between renames."""
    path = Path(path)
    old = path.parent / f".{path.name}.old"
    if old.exists() and not path.exists():
        os.rename(old, path)


def atomic_save_png(fig, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Save a matplotlib figure as a PNG, atomically, and close it."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def rename_durably(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """os.replace(source, target) (a file or a folder, in one file system), then the folder that
    holds `target` flushed to disk, and `source`'s when it is another: without that a power cut can
    undo a rename that had returned (the files' own data must be flushed already, as this module's
    writes do)."""
    source, target = Path(source), Path(target)
    os.replace(source, target)
    _fsync_dir(target.parent)
    if source.parent.resolve() != target.parent.resolve():
        _fsync_dir(source.parent)
