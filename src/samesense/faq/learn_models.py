"""Where a bank's learned models live, and the switch to one (and back) in one transaction.

    BANK.models/1/, 2/, ...   samesense model folders (safetensors + JSON), one a learn that switched
    BANK.models/.work-PID/    a learn at work: its training run and temporary banks; removed when it
                              ends, and by the next learn when a killed one left it behind
    BANK.models/.lock         held (flock) by the learn or rollback at work: one at a time a bank

The bank's settings say which model it uses (model_choice.REMEMBERED: the folder's path) and
keep LEARN_HISTORY: a stack of what each switch replaced (the model's spec, fingerprint, its
threshold, margin, hybrid and answer weights, suggest level and calibration), which `faq rollback` pops. A
switch and a rollback are each one transaction (model_choice.reencode with the settings): the
vectors, the model named and the answer settings change together, or, killed before the commit,
not at all.
Only the models the bank uses or may roll back to are kept; `--keep` says how many steps back.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..encoder_spec import resolve_encoder
from ..errors import SamesenseError
from ..files import rename_durably
from ..protocols import TextEncoder
from .bank import FaqBank
from .choices import ANSWER_DEFAULTS
from .model_choice import REMEMBERED, reencode
from .policy import MODEL_SETTINGS, checked_settings

LEARN_HISTORY = "learn_history"  # the setting: [{spec, fingerprint, dim, saved, and the ANSWER_KEYS}]
LAST_LEARN = "learn_last"  # the setting: what the last learn measured and did (LearnReport.summary())
# what a switch replaces and a rollback restores: the settings a change of model resets, and the margin
ANSWER_KEYS = ("margin", *sorted(MODEL_SETTINGS))
WORK_PREFIX = ".work-"


def models_dir(bank_path: str | os.PathLike) -> Path:
    bank_path = Path(bank_path).resolve()
    return bank_path.with_name(bank_path.name + ".models")


@contextmanager
def learning_lock(bank_path: str | os.PathLike) -> Iterator[Path]:
    """The bank's models folder, held for this process alone (another learn or rollback: refused),
    with what a killed learn left in it cleared."""
    if not Path(bank_path).is_file():
        raise SamesenseError(f"{bank_path}: no such FAQ bank")
    folder = models_dir(bank_path)
    folder.mkdir(exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SamesenseError(f"{bank_path}: another faq learn or rollback is at work on this bank") from None
        for stale in folder.glob(WORK_PREFIX + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        try:
            yield folder
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def work_dir(folder: Path) -> Path:
    work = folder / f"{WORK_PREFIX}{os.getpid()}"
    work.mkdir()
    return work


def history(bank: FaqBank) -> list[dict]:
    return list(bank.store.setting(LEARN_HISTORY) or [])


def current_state(bank: FaqBank, model: TextEncoder) -> dict:
    """What a switch away from the bank's present model must keep to come back to it."""
    s = bank.store.settings()
    return {"spec": getattr(model, "spec", None) or s.get(REMEMBERED), "fingerprint": model.fingerprint,
            "dim": model.dim, "saved": time.time(), **{key: s.get(key) for key in ANSWER_KEYS}}


def install_model(folder: Path, trained: Path) -> Path:
    """Move a trained model folder to the next free number in `folder` (one rename, flushed to disk
    before the bank is switched to it: a power cut must not leave the bank naming a folder the
    file system forgot)."""
    numbers = [int(p.name) for p in folder.iterdir() if p.name.isdigit()]
    target = folder / str(max(numbers, default=0) + 1)
    rename_durably(trained, target)
    return target


def switch(bank: FaqBank, model: TextEncoder, answer_settings: dict, keep: int, report: dict,
           show_progress: bool | None = False) -> None:
    """Make `model` (loaded from its place in the models folder) the bank's with `answer_settings`
    (threshold, calibration...), pushing what it replaces on the history: one transaction."""
    stack = [*history(bank), current_state(bank, bank.need_model())][-keep:]
    values = checked_settings({**answer_settings, REMEMBERED: model.spec, LEARN_HISTORY: stack, LAST_LEARN: report})
    reencode(bank.store, model, bank.lock, show_progress, settings=values)
    prune(bank)


def rollback(bank_path: str | os.PathLike, show_progress: bool | None = False) -> dict:
    """Put the bank back on the model the last switch replaced, with its answer settings (one
    transaction); returns the state restored."""
    with learning_lock(bank_path), FaqBank.open_without_model(bank_path) as bank:
        stack = history(bank)
        if not stack:
            raise SamesenseError(f"{bank_path}: nothing to roll back to: no faq learn has switched this bank's model")
        previous = stack[-1]
        if not previous.get("spec"):
            raise SamesenseError(f"{bank_path}: the model before the last learn was given loaded, not by name: "
                                 "it cannot be loaded again")
        model = resolve_encoder(previous["spec"], need_vectors="an FAQ bank")
        if (model.fingerprint, model.dim) != (previous["fingerprint"], previous["dim"]):
            raise SamesenseError(f"{previous['spec']}: not the model the bank used before the last learn (its files "
                                 "changed since); nothing rolled back")
        # a setting the bank did not have then was its default
        restored = {key: ANSWER_DEFAULTS[key] if previous.get(key) is None and key in ANSWER_DEFAULTS
                    else previous.get(key) for key in ANSWER_KEYS}
        values = checked_settings({**restored, REMEMBERED: previous["spec"], LEARN_HISTORY: stack[:-1]})
        reencode(bank.store, model, bank.lock, show_progress, settings=values)
        prune(bank)
        return previous


def prune(bank: FaqBank) -> None:
    """Delete the learned model folders the bank neither uses nor may roll back to."""
    folder = models_dir(bank.path)
    wanted = {bank.store.setting(REMEMBERED), *(state.get("spec") for state in history(bank))}
    for candidate in folder.iterdir():
        if candidate.name.isdigit() and str(candidate) not in wanted:
            shutil.rmtree(candidate, ignore_errors=True)
