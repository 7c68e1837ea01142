"""Scoring a labelled test set at a bank's stored settings: what `samesense faq evaluate` prints.

    evaluation = evaluate_bank(bank, "labelled.tsv", "oos.txt")
    evaluation.counts        # {"right": 40, "wrong": 2, "none": 14, "oos_answered": 1, "oos_refused": 19}
    evaluation.choices       # {"given": 9, "right": 7, "oos_given": 1}: the "did you mean" of the unanswered

Each question is asked as `ask` asks it (outcomes.py, as calibrate asks them: the same search, margin,
hybrid weight and unreadable-question guard), and answered when its best score reaches the stored
threshold and it is not too close to call. A question is labelled with the group of the entry that
answers it, or, for an entry without a group, that entry's id; out-of-scope questions (one a line)
should get no answer. precision = right / answered (out-of-scope answers count as wrong);
coverage = answered in-scope / in-scope. An unanswered question may still be shown "did you mean"
choices (too close to call, or below the threshold but at least the bank's `suggest` level): `choices`
counts the in-scope ones given choices, those whose right entry is among them, and the out-of-scope
ones given choices, each shown as `ask` would show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .bank import FaqBank
from .matcher import decide, suggest_choices
from .outcomes import Asked, Outcomes, groups_labelled

OUTCOME_NAMES = ("right", "wrong", "none", "oos_answered", "oos_refused")


def outcome_counts(outcomes: Outcomes, threshold: float) -> dict[str, int]:
    """How many questions of each kind (OUTCOME_NAMES) at `threshold`."""
    answered = outcomes.decidable & (outcomes.scores >= threshold)
    in_scope = outcomes.in_scope
    return {"right": int((answered & outcomes.correct & in_scope).sum()),
            "wrong": int((answered & ~outcomes.correct & in_scope).sum()),
            "none": int((~answered & in_scope).sum()),
            "oos_answered": int((answered & ~in_scope).sum()),
            "oos_refused": int((~answered & ~in_scope).sum())}


def rates(counts: dict[str, int]) -> dict[str, float | None]:
    """precision (None when nothing is answered), coverage and right share of the in-scope questions."""
    answered = counts["right"] + counts["wrong"] + counts["oos_answered"]
    in_scope = counts["right"] + counts["wrong"] + counts["none"]
    return {"precision": counts["right"] / answered if answered else None,
            "coverage": (counts["right"] + counts["wrong"]) / in_scope if in_scope else None,
            "right_share": counts["right"] / in_scope if in_scope else None}


@dataclass
class Evaluation:
    bank: str
    settings: dict  # the answer settings it was scored at
    counts: dict[str, int]
    precision: float | None
    coverage: float | None
    right_share: float | None  # in-scope questions answered right
    # in-scope questions whose best candidate is their entry: the most any threshold and margin answer right
    # (fewer right than this: the settings hold answers back; this low: the model ranks them wrong)
    ranked_first: int = 0
    per_entry: list[dict] = field(default_factory=list)  # label, questions, right, wrong, none
    # unanswered questions shown "did you mean": in scope (given, right: the entry among them), out of scope
    choices: dict[str, int] = field(default_factory=lambda: {"given": 0, "right": 0, "oos_given": 0})
    unknown_labels: list[str] = field(default_factory=list)  # labels no entry of the bank has

    def to_dict(self) -> dict:
        return asdict(self)

    def to_text(self) -> str:
        c, n_in = self.counts, self.counts["right"] + self.counts["wrong"] + self.counts["none"]
        n_out = c["oos_answered"] + c["oos_refused"]
        share = (lambda x: "-" if x is None else f"{x:.1%}")
        s = self.settings
        lines = [f"{self.bank}: threshold {s['threshold']:g}, margin {s['margin']:g}, hybrid {s['hybrid']:g}, "
                 f"answers {s['answers']:g}",
                 f"  in scope ({n_in}): right {c['right']}, wrong {c['wrong']}, no answer {c['none']}; its entry "
                 f"ranked first for {self.ranked_first} (the most any threshold answers right)",
                 f"  out of scope ({n_out}): answered {c['oos_answered']}, refused {c['oos_refused']}",
                 f"  did you mean, of the unanswered: {self.choices['given']} in scope shown choices, the right entry "
                 f"among them for {self.choices['right']}; {self.choices['oos_given']} out of scope shown choices",
                 (f"  precision {share(self.precision)}, coverage {share(self.coverage)}, "
                  f"right {share(self.right_share)} of in-scope")]
        missed = [e for e in self.per_entry if e["wrong"] or e["none"]]
        if missed:
            lines.append("  entries not always answered right (label: right / wrong / no answer):")
            lines += [f"    {e['label']}: {e['right']} / {e['wrong']} / {e['none']}" for e in missed]
        if self.unknown_labels:
            lines.append(f"  labels no entry has (never right): {', '.join(self.unknown_labels)}")
        return "\n".join(lines)


def evaluate_bank(bank: FaqBank, groups_file: str, oos_file: str | None = None) -> Evaluation:
    """The test set's outcomes at the bank's stored settings (threshold, margin, weights, suggest level)."""
    policy = bank.policy
    asked = groups_labelled(bank, groups_file, oos_file, ids_as_groups=True).asked(bank, policy.hybrid, policy.answers)
    outcomes = asked.outcomes(policy.margin)
    counts = outcome_counts(outcomes, policy.threshold)
    known = {e.group if e.group is not None else str(e.id) for e in bank.list_entries()}
    answered = outcomes.decidable & (outcomes.scores >= policy.threshold)
    per_entry: dict[str, dict] = {}
    for label, is_answered, right in zip(outcomes.labels, answered, outcomes.correct):
        if label is None:
            continue
        row = per_entry.setdefault(label, {"label": label, "questions": 0, "right": 0, "wrong": 0, "none": 0})
        row["questions"] += 1
        row["right" if is_answered and right else "wrong" if is_answered else "none"] += 1
    return Evaluation(bank=str(bank.path), settings=policy.as_settings(), counts=counts, **rates(counts),
                      ranked_first=int((outcomes.correct & outcomes.in_scope).sum()),
                      per_entry=list(per_entry.values()), choices=choices_shown(asked, policy),
                      unknown_labels=sorted(label for label in per_entry if label not in known))


def choices_shown(asked: Asked, policy) -> dict[str, int]:
    """The "did you mean" choices of the questions given no answer, as `ask` shows them (matcher.decide and
    suggest_choices at the bank's settings; an unreadable question gets none): in scope given choices, those
    with their right entry among them, and out of scope given choices."""
    shown = {"given": 0, "right": 0, "oos_given": 0}
    for candidates, label, readable in zip(asked.results, asked.labels, asked.readable):
        if not readable:
            continue
        answer = suggest_choices(decide("", candidates, policy.threshold, policy.margin), policy.suggest)
        if answer.answered or not answer.did_you_mean:
            continue
        if label is None:
            shown["oos_given"] += 1
            continue
        shown["given"] += 1
        shown["right"] += any(asked.label_of.get(c.entry_id) == label for c in answer.did_you_mean)
    return shown
