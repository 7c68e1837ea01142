"""Which model a bank is opened with: one already loaded, a model (or run) folder to load, or, given
none, the folder the bank remembers, so only the first command on a bank has to name it."""

from __future__ import annotations

import os
from pathlib import Path

from ..protocols import TextEncoder
from .store import Store


def choose_model(store: Store, model: TextEncoder | str | os.PathLike | None,
                 remember: bool = True) -> TextEncoder | None:
    """The model to use, loading a folder (and, with `remember`, remembering it in the bank: a write;
    a read-only open passes False); None when no model was named and the remembered folder is gone (a
    bank then still reads and deletes rows)."""
    if model is None:
        model = store.setting("model_path")
        if model is not None and not Path(model).exists():
            return None
    if not isinstance(model, (str, os.PathLike)):
        return model
    from ..model import load, resolve_model_dir  # torch: only when a folder is to be loaded

    model_dir = resolve_model_dir(model)
    loaded = load(model_dir)
    if remember and store.setting("model_path") != str(model_dir.resolve()):
        store.put_settings(model_path=str(model_dir.resolve()))
    return loaded
