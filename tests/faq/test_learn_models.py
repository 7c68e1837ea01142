"""Where a bank's learned models live (faq/learn_models.py): a trained folder is installed by a
rename that is flushed to disk before the bank is switched to it."""

import os

from samesense.faq.learn_models import install_model


def flushed_folders(monkeypatch) -> list[str]:
    """The paths os.fsync is called on from now on (by the descriptor's link in /proc: Linux)."""
    flushed, fsync = [], os.fsync

    def recording(fd):
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        return fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return flushed


def test_install_model_flushes_the_models_folder_after_its_rename(tmp_path, monkeypatch):
    folder = tmp_path / "bank.faq.models"
    (folder / "1").mkdir(parents=True)
    trained = folder / ".work-1" / "run" / "model"
    trained.mkdir(parents=True)
    (trained / "model.json").write_text("{}")
    flushed = flushed_folders(monkeypatch)
    target = install_model(folder, trained)
    assert target == folder / "2" and (target / "model.json").read_text() == "{}" and not trained.exists()
    assert str(folder) in flushed  # the new name is on disk, not only in the page cache
    assert str(trained.parent) in flushed  # and the old one is gone there too
