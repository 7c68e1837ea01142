"""Labelled questions asked of a bank: for each, the best candidate's score, whether it is the right entry,
whether it may be answered at all (readable, not too close to call), whether it is in scope. calibrate.py
chooses a threshold on these; evaluate_bank.py reports them at the stored settings; learn.py compares two
models on them.

Two kinds of labelled data (calibrate.py's docstring says more): a groups file (group<TAB>question) with
out-of-scope questions, each asked of the bank the way `ask` does it; or a pairs file (question<TAB>stored
question<TAB>0/1), whose cosines alone are compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import read_groups, read_pairs, read_sentences
from ..errors import SamesenseError
from ..evaluate import pair_similarities
from .bank import FaqBank
from .matcher import close_choices


@dataclass
class Outcomes:
    """Per labelled question: best score, whether that answer is right, whether it may be answered
    at all (not too close to call), whether the question is in scope."""

    scores: np.ndarray
    correct: np.ndarray
    decidable: np.ndarray
    in_scope: np.ndarray
    best_entry: np.ndarray | None = None  # the entry id of each question's best candidate (-1: none)
    labels: list | None = None  # each question's label (group), None out of scope


def group_outcomes(bank: FaqBank, groups_file: str, oos_file: str | None, margin: float,
                   hybrid: float | None = None, ids_as_groups: bool = False, answers: float | None = None) -> Outcomes:
    """`ids_as_groups`: an entry without a group is labelled by its id (written as a number)."""
    return groups_labelled(bank, groups_file, oos_file, ids_as_groups).asked(bank, hybrid, answers).outcomes(margin)


def groups_labelled(bank: FaqBank, groups_file: str, oos_file: str | None, ids_as_groups: bool = False) -> Labelled:
    groups = read_groups(groups_file, normalize=False)
    oos = read_sentences(oos_file, normalize=False) if oos_file else []
    entry_group = {e.id: e.group if e.group is not None or not ids_as_groups else str(e.id)
                   for e in bank.list_entries()}
    if not set(entry_group.values()) & set(groups.names):
        raise SamesenseError(f"{groups_file}: none of its groups is the group of an entry in {bank.path} "
                             "(label each question with the group of the entry that answers it)")
    labels = [groups.names[label] for label in groups.labels] + [None] * len(oos)
    return Labelled(groups.sentences + oos, labels, entry_group)


def question_outcomes(bank: FaqBank, questions: list[str], labels: list, label_of: dict, margin: float,
                      hybrid: float | None = None, answers: float | None = None) -> Outcomes:
    """Each question asked of the bank as `ask` asks it: right when its best candidate's entry maps,
    by `label_of` (entry id -> label), to the question's label; a label of None is out of scope."""
    return Labelled(questions, labels, label_of).asked(bank, hybrid, answers).outcomes(margin)


@dataclass
class Labelled:
    """Questions, their labels (None: out of scope) and each entry's label (entry id -> label), read once:
    calibrate asks them of the bank once per pair of weights."""

    questions: list[str]
    labels: list
    label_of: dict
    readable: np.ndarray | None = None  # whether the model reads each question: the same at every weight
    vectors: tuple | None = None  # (the model, its vectors of the questions): the same at every weight

    def asked(self, bank: FaqBank, hybrid: float | None = None, answers: float | None = None) -> Asked:
        model = bank.need_model()
        if self.vectors is None or self.vectors[0] is not model:
            self.readable = np.array([reason is None for reason in bank.unreadable(self.questions)])
            self.vectors = (model, model.encode(self.questions))
        return Asked(bank.search(self.questions, k=10, hybrid=hybrid, answers=answers, vectors=self.vectors[1]),
                     self.readable, self.labels, self.label_of)


@dataclass
class Asked:
    """Labelled questions asked of a bank once (their candidates, and whether the model reads them):
    their Outcomes at any margin, for the margin changes which are answered, not what is found."""

    results: list
    readable: np.ndarray
    labels: list
    label_of: dict

    def outcomes(self, margin: float) -> Outcomes:
        results, labels = self.results, self.labels
        scores = np.array([c[0].score if c else -1.0 for c in results])
        correct = np.array([bool(c) and g is not None and self.label_of.get(c[0].entry_id) == g
                            for c, g in zip(results, labels)])
        decidable = self.readable & np.array([len(close_choices(c, margin)) <= 1 for c in results])
        best = np.array([c[0].entry_id if c else -1 for c in results], dtype=np.int64)
        return Outcomes(scores, correct, decidable, np.array([g is not None for g in labels]), best, list(labels))


def pair_outcomes(bank: FaqBank, pairs_file: str) -> Outcomes:
    pairs = read_pairs(pairs_file, normalize=False)
    if not pairs.is_binary:
        raise SamesenseError(f"{pairs_file}: calibration needs 0/1 labels")
    scores = pair_similarities(bank.need_model().encode, pairs)
    positive = pairs.labels > 0.5
    return Outcomes(scores.astype(np.float64), positive, np.ones(len(pairs), bool), positive)
