"""Which encoder a bank is opened with, and whose vectors the bank holds.

Opened with: one already loaded, one named by a spec (a model or run folder, a sentence-transformers
folder, or a baseline: samesense.encoder_spec's grammar), or, given none, the spec the bank
remembers, so only the first command on a bank has to name it.

A bank never mixes models (a model is named by its fingerprint, not by its path). The bank records
the fingerprint (and dim) of the model its vectors were made by, and (bank.py)
  - a writable open with another model encodes every question again and makes the bank that
    model's (one transaction; questions another process adds meanwhile are encoded inside it);
  - every write that stores vectors checks, inside its transaction, that this process's model is
    still the bank's (`claim_model`), and refuses if another process has moved the bank to another
    model since;
  - a read-only open never writes: with another model it encodes the stored questions in memory,
    for its own index alone;
  - the index takes a stored vector only when the bank's model (read in the same snapshot as the
    vector) is this process's; otherwise it encodes the question itself. So a process whose model
    is no longer the bank's goes on answering, with its own model, and sees new questions too.
"""

from __future__ import annotations

import os

from ..baselines import BASELINE_PREFIX
from ..encoder_spec import resolve_encoder
from ..errors import SamesenseError
from ..protocols import TextEncoder
from . import store_writes
from .choices import ANSWER_DEFAULTS
from .policy import MODEL_SETTINGS
from .store import Store
from .text import unique

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


def stored_model(store: Store, conn=None) -> tuple[str | None, int | None]:
    """(fingerprint, dim) of the model the stored vectors were made by; (None, None) before any."""
    return store.setting("model_fingerprint", conn), store.setting("dim", conn)


def is_bank_model(store: Store, model: TextEncoder, conn=None) -> bool:
    return stored_model(store, conn) == (model.fingerprint, model.dim)


def make_bank_model(conn, model: TextEncoder) -> None:
    """Inside a write: record `model` as the one the stored vectors are made by."""
    Store.put_setting(conn, "model_fingerprint", model.fingerprint)
    Store.put_setting(conn, "dim", model.dim)


def claim_model(store: Store, model: TextEncoder, conn) -> None:
    """Inside a write that stores vectors: `model` must be the bank's (a bank with no vectors yet
    becomes its), else the write is refused: another process moved the bank to another model after
    this one opened it."""
    fingerprint, dim = stored_model(store, conn)
    if fingerprint is None:
        make_bank_model(conn, model)
    elif (fingerprint, dim) != (model.fingerprint, model.dim):
        raise SamesenseError(f"{store.path}: the bank's vectors were made by model {fingerprint} ({dim}-d); "
                             f"this process holds model {model.fingerprint} ({model.dim}-d): reopen the "
                             f"bank to write to it (opened writable with --model MODEL, it is re-encoded "
                             f"for that model)")


def reencode(store: Store, model: TextEncoder, lock, show_progress: bool | None = False,
             settings: dict | None = None) -> str | None:
    """Encode every stored question with `model` and make the bank that model's (a new model means
    new vectors). Encoded first, then written in one transaction (under `lock`, the bank's) that also
    encodes the questions added meanwhile, so no old vector is left under the new fingerprint. The
    settings measured with the old model go in the same transaction (forget_model_settings); what
    was reset is returned, for a warning (None: nothing was, or `settings` replaced it). `settings`:
    stored after that reset, in the same transaction (a learned model's spec, threshold, margin,
    hybrid weight and calibration: learn.py switches all of it at once, or nothing)."""
    vector_of = encode_texts(model, unique(store.question_texts()[1]), show_progress)
    with lock, store.write() as conn:
        old = stored_model(store, conn)[0]
        ids, texts = store.question_texts(conn)
        vector_of.update(encode_texts(model, unique(t for t in texts if t not in vector_of), show_progress))
        store_writes.replace_vectors(conn, ids, store_writes.matrix(vector_of, texts, model.dim))
        make_bank_model(conn, model)
        reset = forget_model_settings(store, conn, old, model) if old is not None else None
        for key, value in (settings or {}).items():
            Store.put_setting(conn, key, value)
        return None if settings else reset


def forget_model_settings(store: Store, conn, old: str, model: TextEncoder) -> str | None:
    """Inside the write that moves a bank to `model`: the threshold, margin, hybrid and answer weights
    back to a new bank's and the calibration forgotten, as another model's scores are on another scale (a
    threshold kept from e5-small, whose cosines bunch near 0.9, answers nothing with MiniLM); what
    changed, in words (None when they were a new bank's already)."""
    kept = {key: store.setting(key, conn) for key in (*MODEL_SETTINGS, "margin")}
    reset = {key: ANSWER_DEFAULTS.get(key) for key in kept if kept[key] != ANSWER_DEFAULTS.get(key)}
    if not reset:
        return None
    for key, value in reset.items():
        Store.put_setting(conn, key, value)
    was = ", ".join(f"{key} {kept[key]:g}" for key in ANSWER_DEFAULTS if key in reset) or "its settings"
    calibrated = " (calibrated)" if kept["calibration"] is not None else ""
    now = ", ".join(f"{key} {ANSWER_DEFAULTS[key]:g}" for key in ANSWER_DEFAULTS if key in reset)
    return (f"{store.path}: moved from model {old} to {model.fingerprint}: {was}{calibrated} were the old model's, "
            f"reset to a new bank's{f' ({now})' if now else ''}; run samesense calibrate for this model")


def encode_texts(model: TextEncoder, texts: list[str], show_progress: bool | None = False) -> dict:
    """text -> its vector by `model`."""
    return dict(zip(texts, model.encode(texts, show_progress=show_progress))) if texts else {}
