"""Which encoder a bank is opened with: one already loaded, one named by a spec (a model or run
folder, a sentence-transformers folder, or a baseline: samesense.encoder_spec's grammar), or, given
none, the spec the bank remembers, so only the first command on a bank has to name it."""

from __future__ import annotations

import os

from ..baselines import BASELINE_PREFIX
from ..encoder_spec import resolve_encoder
from ..protocols import TextEncoder
from .store import Store

REMEMBERED = "model_path"  # the setting holding the spec (named when only folders could be given)


def choose_model(store: Store, model: TextEncoder | str | os.PathLike | None,
                 remember: bool = True) -> TextEncoder | None:
    """The encoder to use, loading the one a spec names (and, with `remember`, remembering the
    encoder's spec in the bank: a write; a read-only open passes False); None when none was named
    and the remembered folder is gone (a bank then still reads and deletes rows). bm25 is refused:
    a bank stores vectors."""
    if model is None:
        model = remembered_spec(store)
        if model is None:
            return None
    if isinstance(model, (str, os.PathLike)):
        model = resolve_encoder(model, need_vectors="an FAQ bank")
    spec = getattr(model, "spec", None)  # a loaded encoder says how to load it again, when it can
    if remember and spec and store.setting(REMEMBERED) != spec:
        store.put_settings(**{REMEMBERED: spec})
    return model


def remembered_spec(store: Store) -> str | None:
    """The spec the bank remembers: baseline:NAME or a folder's absolute path; None when there is
    none, or its folder is gone."""
    spec = store.setting(REMEMBERED)
    if spec is not None and not spec.startswith(BASELINE_PREFIX) and not os.path.exists(spec):
        return None
    return spec
