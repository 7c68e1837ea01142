"""Atomic writes give files and folders the mode a plain open() or mkdir() would, not tempfile's 0600/0700."""

import os
import stat

import pytest

from samesense.files import atomic_dir, atomic_write_bytes, atomic_write_json


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_written_file_has_the_mode_open_gives(umask, tmp_path):
    atomic_write_bytes(tmp_path / "out" / "export.json", b"{}")
    atomic_write_json(tmp_path / "run.json", {"a": 1})
    with open(tmp_path / "plain", "wb"):
        pass
    assert mode(tmp_path / "out" / "export.json") == mode(tmp_path / "run.json") == mode(tmp_path / "plain") \
        == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "plain", "run.json"]  # no temporary left


def test_an_atomic_folder_has_the_mode_mkdir_gives(umask, tmp_path):
    with atomic_dir(tmp_path / "model") as folder:
        atomic_write_json(folder / "config.json", {})
    assert mode(tmp_path / "model") == 0o777 & ~umask
    assert mode(tmp_path / "model" / "config.json") == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "bank-export.json"
    atomic_write_bytes(path, b"old")
    os.chmod(path, 0o640)
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and mode(path) == 0o640
