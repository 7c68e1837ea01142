"""`samesense faq learn`: fine-tune the bank's encoder on the bank's own entries, and switch to it
only when it answers more.

    report = learn("support.faq", LearnOptions(epochs=8, holdout=0.2))
    print(report.to_text())      # old vs new on the held-back paraphrases, and why it switched or not

Each entry is a group: its question and paraphrases (the questions assigned to it from the
unanswered log are paraphrases too). A share (`holdout`) of the paraphrases is held back: the new
model never trains on them. The bank's transformer (minilm, e5-small, a sentence-transformers folder, or a samesense
model fine-tuned elsewhere; for a model a learn made, what that learn started from), or a static model's
own table (for a model a learn made, the static model it started from), is fine-tuned with the
margin losses through the training machinery (samesense.train, as `samesense train --encoder
transformer --pretrained X` or `--encoder static --start-from MODEL` does), on the rest. Then both models answer the held-back paraphrases
(and the out-of-scope questions of the bank's calibration, when it has them) from a copy of the
bank without them, each at the threshold that reaches the target precision (the bank's calibrated
target, else --target-precision); the new model is taken only when it answers more of them right.
The in-scope questions of the bank's calibration are asked beside them (the team labelled them, and
neither model trains on them): a small bank holds back a dozen paraphrases, too few to judge on alone.
Taking it: threshold and margin are calibrated again for it (calibrate.recalibrate on the bank's
calibration files, when it has them and they are still there; else the held-back paraphrases'
threshold), and learn_models.switch changes vectors, model and settings in one transaction. Everything else happens in a work folder
that a killed learn leaves behind and the next one clears: the bank stays on its model until the
commit.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SamesenseError
from .bank import FaqBank
from .calibrate import calibration_files, choose, recalibrate
from .evaluate_bank import outcome_counts, rates
from .learn_base import (
    DEFAULT_TARGET_PRECISION,
    LearnOptions,
    base_name,
    base_settings,
    held_back_split,
    training_config,
)
from .learn_models import install_model, learning_lock, switch, work_dir
from .outcomes import question_outcomes
from .planner import FaqRow
from .policy import CALIBRATED_SETTINGS


@dataclass
class LearnReport:
    bank: str
    base: dict  # what was fine-tuned (training settings of the model section)
    entries: int
    trained_questions: int
    held_back: int
    out_of_scope: int  # the calibration's out-of-scope questions, asked beside the held-back ones
    calibration_questions: int  # the calibration's in-scope questions, asked beside them too
    target_precision: float
    current: dict  # model, threshold, counts and rates on the held-back questions
    new: dict
    switched: bool
    reason: str
    model: str | None = None  # the new model's folder, when switched
    threshold: float | None = None  # the threshold stored with it
    threshold_from: str | None = None
    train_seconds: float = 0.0
    seconds: float = 0.0
    history: list[dict] = field(default_factory=list)  # the training run's epochs

    def summary(self) -> dict:
        """What the bank keeps of it (LAST_LEARN)."""
        return {k: v for k, v in asdict(self).items() if k != "history"}

    def to_text(self) -> str:
        def line(name: str, side: dict) -> str:
            c = side["counts"]
            at = "no threshold reaches it" if side["threshold"] is None else f"threshold {side['threshold']:.4f}"
            return (f"  {name} ({side['model']}): {at}: right {c['right']}, wrong {c['wrong']}, no answer "
                    f"{c['none']}" + (f", out-of-scope answered {c['oos_answered']}" if self.out_of_scope else ""))

        lines = [f"{self.bank}: fine-tuned {base_name(self.base)} on "
                 f"{self.trained_questions} questions of {self.entries} entries in {self.train_seconds:.0f} s; "
                 f"{self.held_back} paraphrases held back" +
                 (f" (+ {self.calibration_questions} calibration questions)" if self.calibration_questions else "") +
                 (f" (+ {self.out_of_scope} out-of-scope questions)" if self.out_of_scope else "") +
                 f", answered at precision {self.target_precision:g}:",
                 line("current", self.current), line("new", self.new),
                 ("switched" if self.switched else "not switched") + f": {self.reason}"]
        if self.switched:
            lines.append(f"  model {self.model}; threshold {self.threshold:.4f} ({self.threshold_from}); "
                         "`samesense faq rollback` goes back")
        return "\n".join(lines)


def learn(bank_path: str | os.PathLike, options: LearnOptions | None = None) -> LearnReport:
    options = options or LearnOptions()
    if not 0.0 < options.holdout < 1.0:
        raise SamesenseError(f"--holdout must be above 0 and below 1, got {options.holdout}")
    started = time.perf_counter()
    with learning_lock(bank_path) as folder, FaqBank.open(bank_path, create=False,
                                                          show_progress=options.show_progress) as bank:
        model = bank.need_model()
        base = base_settings(model, folder)
        entries = bank.list_entries()
        trained, held = held_back_split(entries, options.holdout, options.seed, bank.path)
        calibration = bank.settings.get("calibration") or {}
        target = options.target_precision or calibration.get("target_precision") or DEFAULT_TARGET_PRECISION
        asked, oos = calibration_questions(calibration, entries)
        work = work_dir(folder)
        summary = train_on_entries(base, trained, options, work)
        new_model = resolve_model(summary["model"])
        current = held_back_answers(bank, model, entries, held, asked, oos, target, work / "current.faq")
        new = held_back_answers(bank, new_model, entries, held, asked, oos, target, work / "new.faq")
        new["model"] = f"{base_name(base)} fine-tuned on the bank"
        switched = new["counts"]["right"] > current["counts"]["right"]
        report = LearnReport(bank=str(bank.path), base=base, entries=len(entries),
                             trained_questions=len(trained), held_back=len(held), out_of_scope=len(oos),
                             calibration_questions=len(asked),
                             target_precision=target, current=current, new=new, switched=switched,
                             reason=why(current, new), train_seconds=round(summary["train_seconds"], 1),
                             history=summary.get("history", []))
        if switched:
            installed = resolve_model(install_model(folder, Path(summary["model"])))
            settings, report.threshold_from = recalibrated(bank, installed, calibration, target, new, work)
            report.model, report.threshold = str(installed.spec), settings["threshold"]
            report.seconds = round(time.perf_counter() - started, 1)
            switch(bank, installed, settings, options.keep, report.summary(), options.show_progress)
        else:
            report.seconds = round(time.perf_counter() - started, 1)
            bank.store.put_settings(learn_last=report.summary())
        remove_tree(work)
        return report


def resolve_model(path):
    from ..encoder_spec import resolve_encoder

    return resolve_encoder(str(path), need_vectors="an FAQ bank")


def remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def why(current: dict, new: dict) -> str:
    old_right, new_right = current["counts"]["right"], new["counts"]["right"]
    if new_right > old_right:
        return f"the new model answers {new_right} held-back questions right where the current one answers {old_right}"
    return (f"the new model answers {new_right} held-back questions right, the current one {old_right}: "
            "not more, so the bank keeps its model")


def calibration_questions(calibration: dict, entries) -> tuple[list[tuple[int, str]], list[str]]:
    """The questions of the bank's calibration, when its files are still there: the in-scope ones whose group is
    an entry's, labelled with that entry's id, and the out-of-scope ones."""
    from ..data import read_groups, read_sentences

    files = calibration.get("files") or []
    if calibration.get("kind") != "groups" or not files or not all(os.path.isfile(f) for f in files):
        return [], []
    groups = read_groups(files[0], normalize=False)
    entry_of = {e.group: e.id for e in entries if e.group is not None}
    asked = [(entry_of[groups.names[label]], text) for label, text in zip(groups.labels, groups.sentences)
             if groups.names[label] in entry_of]
    return asked, read_sentences(files[1], normalize=False) if len(files) > 1 else []


def train_on_entries(base: dict, trained: list[tuple[str, str]], options: LearnOptions, work: Path) -> dict:
    """The training run (in `work`): one group an entry; its summary (model folder, seconds)."""
    from ..data import Groups
    from ..train import TrainGroups, train

    cfg = training_config(base, options, work / "run")
    # validation on a few training questions (val_same_groups), to show the fit: the held-back
    # paraphrases play no part in training, choosing the epoch included; too few to choose an epoch
    # on (train's MIN_VAL_QUERIES), so every epoch is trained and the last kept (the training
    # questions' top-1 reaches 1 in two or three epochs, long before the margins stop growing)
    return train(cfg, data=TrainGroups(train=Groups.from_records(trained), val=Groups.from_records(fit_sample(trained))))


def fit_sample(trained: list[tuple[str, str]], groups: int = 12) -> list[tuple[str, str]]:
    """Two questions of each of the first `groups` entries that have two."""
    by_group: dict[str, list[str]] = {}
    for group, text in trained:
        by_group.setdefault(group, []).append(text)
    pairs = [(g, texts[:2]) for g, texts in by_group.items() if len(texts) >= 2][:groups]
    return [(g, text) for g, texts in pairs for text in texts] or trained  # none with two: no fit to show


def held_back_answers(bank: FaqBank, model, entries, held: list[tuple[int, str]], asked: list[tuple[int, str]],
                      oos: list[str], target: float, path: Path) -> dict:
    """`model`'s answers to the held-back paraphrases (and the calibration's questions, `asked` in scope and
    `oos`) from a copy of the bank without them (its answer settings), at the threshold reaching `target` on them."""
    held_texts = {text for _, text in held}
    rows = [FaqRow(e.question, e.answer, e.group, [p for p in e.paraphrases if p not in held_texts], e.tags)
            for e in entries]
    with FaqBank.open(path, model, show_progress=bank.show_progress) as copy:
        copy.set_settings(**{k: v for k, v in bank.policy.as_settings().items() if k != "threshold"})
        copy.import_rows(rows)
        original = {e.question: e.id for e in entries}
        label_of = {e.id: original[e.question] for e in copy.list_entries()}
        questions = [text for _, text in held + asked] + oos
        labels = [entry_id for entry_id, _ in held + asked] + [None] * len(oos)
        outcomes = question_outcomes(copy, questions, labels, label_of, copy.policy.margin)
    try:
        threshold, _, _ = choose(outcomes, target)
    except SamesenseError:  # TargetUnreachable, or nothing decidable: it answers nothing at this precision
        threshold = None
    counts = outcome_counts(outcomes, np.inf if threshold is None else threshold)
    return {"model": getattr(model, "spec", None) or model.fingerprint, "threshold": threshold, "counts": counts,
            **rates(counts)}


def recalibrated(bank: FaqBank, model, calibration: dict, target: float, new: dict, work: Path) -> tuple[dict, str]:
    """The answer settings to store with the new model (threshold, margin, weights, calibration):
    the bank's calibration made again for it (calibrate.recalibrate, as `faq import` onto another model
    does: same files and hybrid weight, the margin chosen anew; at `target`) on a copy of the bank with
    the new model's vectors, or, without those files, the held-back threshold."""
    why_not = "the bank is not calibrated"
    if calibration:
        try:
            files, why_not = calibration_files(calibration), None  # before a copy is encoded for nothing
        except SamesenseError as gone:
            why_not = str(gone)
    if why_not is None:
        with FaqBank.open(work / "calibrate.faq", model, show_progress=bank.show_progress) as copy:
            copy.set_settings(**{k: v for k, v in bank.policy.as_settings().items() if k != "threshold"})
            copy.import_rows([FaqRow(e.question, e.answer, e.group, e.paraphrases, e.tags)
                              for e in bank.list_entries()])
            try:
                result = recalibrate(copy, {**calibration, "target_precision": target})
                return result.settings(), f"calibrated on {', '.join(files)}"
            except SamesenseError as refused:  # the new model misses the target on them
                why_not = f"calibration on the bank's files refused ({refused})"
    # margin and weights as the held-back paraphrases were answered with: stored with the threshold,
    # so the switch keeps the settings it was chosen under whatever a change of model resets
    policy = bank.policy
    return ({**{key: getattr(policy, key) for key in CALIBRATED_SETTINGS}, "threshold": new["threshold"],
             "calibration": None},
            f"chosen on the held-back paraphrases: {why_not}")
