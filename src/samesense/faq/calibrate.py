"""Choosing the answer threshold for a target precision, from labelled questions.

Two kinds of labelled data:
  groups + out-of-scope  questions labelled with the group of the bank entry that answers them
                         (groups file: group<TAB>question), plus questions no entry answers (one a
                         line). Each is asked of the bank the way `ask` does it, did-you-mean and
                         the unreadable-question guard included. Answered = readable, best score at
                         or above the threshold and not too close to call; correct = answered with
                         the entry of its group.
                         precision = correct / answered; coverage = answered in-scope / in-scope.
  pairs                  question<TAB>stored question<TAB>0/1: answered = cosine at or above the
                         threshold; precision = share of answered pairs labelled 1; coverage = share
                         of 1-pairs answered.
outcomes.py asks them. The threshold chosen is the lowest whose precision meets the target (lower
thresholds answer more), half-way to the next lower score so that it sits between the calibration
questions' scores.
Precision where nothing is answered is undefined (NaN), never a target met. A threshold that would
answer fewer in-scope questions than `min_coverage` (and never one answering none) is refused, not
stored: a bank that abstains on nearly everything is switched off, not calibrated, and a precision
measured on a handful of answers says little.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SamesenseError
from ..files import atomic_save_png
from .bank import FaqBank
from .choices import MIN_COVERAGE
from .matcher import suggestions
from .outcomes import Asked, Outcomes, groups_labelled, pair_outcomes
from .policy import CALIBRATED_SETTINGS, checked


@dataclass
class Curve:
    thresholds: np.ndarray
    precision: np.ndarray
    coverage: np.ndarray
    out_of_scope_recall: np.ndarray | None = None


@dataclass
class Calibration:
    threshold: float
    target_precision: float
    precision: float  # expected, measured on the calibration data at the threshold
    coverage: float
    kind: str  # groups | pairs
    margin: float
    n_in_scope: int
    n_out_of_scope: int
    in_scope_accuracy: float | None = None
    out_of_scope_recall: float | None = None
    files: list[str] = field(default_factory=list)
    model_fingerprint: str = ""
    created: float = 0.0
    hybrid: float = 0.0  # the weight of BM25 in the scores the threshold was chosen on
    hybrid_tried: dict[str, float] | None = None  # with --hybrid choose: in-scope accuracy of each weight
    answers: float = 0.0  # the weight of the answer texts in the scores
    answers_tried: dict[str, float] | None = None  # with --answers choose: in-scope accuracy of each weight
    margins_tried: dict[str, float] | None = None  # with --margin choose: in-scope accuracy of each margin
    suggest: float | None = None  # with --suggest choose: the "did you mean" level chosen (1: off); None not chosen
    suggest_given: int | None = None  # ... the labelled questions below the threshold given choices at that level,
    suggest_right: int | None = None  # and those of them whose right entry is among their choices

    def to_dict(self) -> dict:
        return asdict(self)

    def settings(self) -> dict:
        """What a bank stores of it: the settings it chose (policy.CALIBRATED_SETTINGS, and the suggest
        level when it chose one: one set by hand leaves the threshold's calibration standing), and itself."""
        chosen = {key: getattr(self, key) for key in CALIBRATED_SETTINGS}
        return {**chosen, **({} if self.suggest is None else {"suggest": self.suggest}), "calibration": self.to_dict()}


def curve(outcomes: Outcomes) -> Curve:
    """Precision and coverage at every distinct best score, as the threshold (descending)."""
    order = np.argsort(-outcomes.scores, kind="mergesort")
    s = outcomes.scores[order]
    answered = outcomes.decidable[order]
    right = np.cumsum(answered & outcomes.correct[order])
    n_answered = np.cumsum(answered)
    in_scope = outcomes.in_scope[order]
    covered = np.cumsum(answered & in_scope)
    last = np.r_[s[1:] != s[:-1], True]  # the cut after the last question of each distinct score
    # nothing answered: no precision at all (1.0 here once chose thresholds that answer nothing)
    precision = np.where(n_answered > 0, right / np.maximum(n_answered, 1), np.nan)
    n_in, n_out = int(in_scope.sum()), int((~in_scope).sum())
    oos = None
    if n_out:
        oos = 1.0 - np.cumsum(answered & ~in_scope)[last] / n_out
    return Curve(s[last], precision[last], covered[last] / max(n_in, 1), oos)


class TargetUnreachable(SamesenseError):
    """No threshold meets the target precision; says the best precision there is, and where."""

    def __init__(self, target: float, best_precision: float, best_threshold: float):
        self.target, self.best_precision, self.best_threshold = target, best_precision, best_threshold
        super().__init__(f"no threshold reaches precision {target:.3f} on this data (best {best_precision:.3f} "
                         f"at {best_threshold:.3f}); lower --target-precision")


class NothingAnswered(TargetUnreachable):
    """No calibration question is answered at any threshold (with this margin): the farthest from a target."""

    def __init__(self):
        self.target, self.best_precision, self.best_threshold = None, -1.0, None
        SamesenseError.__init__(self, "no calibration question is answered at any threshold (each is too close to "
                                "call or unreadable): lower --margin, or check the questions")


class CoverageTooLow(TargetUnreachable):
    """The target is met only by a threshold that would answer too few questions to be of use."""

    def __init__(self, target: float, precision: float, threshold: float, coverage: float, min_coverage: float,
                 kind: str):
        self.target, self.best_precision, self.best_threshold = target, precision, threshold
        self.coverage, self.min_coverage = coverage, min_coverage
        answered = "in-scope questions" if kind == "groups" else "positive pairs"
        SamesenseError.__init__(self, f"threshold {threshold:.3f} reaches precision {precision:.3f} but answers "
                                f"{coverage:.1%} of the {answered} (--min-coverage {min_coverage:g}): the bank would "
                                "answer almost nothing; not stored; lower --target-precision, or calibrate a better "
                                "model")


def choose(outcomes: Outcomes, target: float) -> tuple[float, int, Curve]:
    """(threshold, position on the curve, curve)."""
    c = curve(outcomes)
    meets = np.flatnonzero(c.precision >= target)  # NaN (nothing answered) never meets it
    if not len(meets):
        if np.isnan(c.precision).all():
            raise NothingAnswered()
        best = int(np.nanargmax(c.precision))
        raise TargetUnreachable(target, float(c.precision[best]), float(c.thresholds[best]))
    i = int(meets[-1])  # thresholds descend: the last that meets the target is the lowest
    lower = c.thresholds[i + 1] if i + 1 < len(c.thresholds) else c.thresholds[i] - 1e-3
    return float((c.thresholds[i] + lower) / 2), i, c


# the hybrid weights `calibrate(hybrid="choose")` tries: 0 is the model alone, 1 BM25 alone
HYBRID_CHOICES = tuple(round(0.1 * i, 1) for i in range(11))
# the margins `calibrate(margin="choose")` tries: 0 (no "too close to call") to 0.05. A model whose scores
# bunch (e5-small's best matches lie between 0.85 and 0.95) loses most answers to a wide margin; one whose
# scores spread gains precision from it
MARGIN_CHOICES = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05)
# the answer weights `calibrate(answers="choose")` tries: 0 (the stored questions alone) to 0.5 (the answer
# text counts as much as the best stored question)
ANSWERS_CHOICES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def calibrate(bank: FaqBank, target: float, groups: str | None = None, oos: str | None = None,
              pairs: str | None = None, margin: float | str | None = None, plot: str | os.PathLike | None = None,
              save: bool = True, min_coverage: float = MIN_COVERAGE,
              hybrid: float | str | None = None, answers: float | str | None = None,
              suggest: str | None = None) -> Calibration:
    """Choose, report and (with `save`) store the threshold; CoverageTooLow, with nothing stored,
    when the threshold would answer less than `min_coverage` of the in-scope questions.

    `hybrid`: the weight of BM25 in the scores (samesense.lexical.hybrid) to calibrate: None the bank's own,
    a number that weight (stored with the threshold), or "choose": each of HYBRID_CHOICES is
    calibrated and the one answering most in-scope questions right at the target precision is kept
    (groups files only: a pairs file has no bank search to fuse). `answers`: the weight of the entries'
    answer texts in the scores (search.py), the same way (ANSWERS_CHOICES).

    `margin`: the "too close to call" margin, None the bank's own, a number that margin, or "choose":
    threshold and margin chosen together, each of MARGIN_CHOICES calibrated and the one answering most
    in-scope questions right at the target precision kept (the wider on a tie; groups files only).

    `suggest`: None leaves the bank's "did you mean" level as it is; "choose" (groups files only) chooses it
    with the rest (choose_suggest), stores it, and a recalibration for another model chooses it again."""
    if not 0.0 < target <= 1.0:
        raise SamesenseError(f"target precision must be in (0, 1], got {target}")
    if not 0.0 <= min_coverage <= 1.0:
        raise SamesenseError(f"min_coverage must be from 0 to 1, got {min_coverage}")
    if (groups is None) == (pairs is None):
        raise SamesenseError("calibrate from either a groups file (with out-of-scope questions) or a pairs file")
    weights = values_of("hybrid", hybrid, HYBRID_CHOICES, bank.policy.hybrid)
    answer_weights = values_of("answers", answers, ANSWERS_CHOICES, bank.policy.answers)
    margins = values_of("margin", margin, MARGIN_CHOICES, bank.policy.margin)
    if suggest not in (None, "choose"):
        raise SamesenseError(f"suggest is chosen (choose) or left as it is (None), got {suggest!r}: set a level by "
                             "hand with faq set --suggest")
    if pairs and (max(weights) > 0 or max(answer_weights) > 0 or margin == "choose" or suggest):
        raise SamesenseError("a hybrid bank (BM25 weight above 0), an answer weight above 0, a margin to choose or a suggest "
                             "level to choose, is "
                             "calibrated from a groups file of questions (its scores come from searching the bank); "
                             "a pairs file gives cosines alone")
    tried: dict[tuple[float, float, float], tuple[Calibration, Curve] | SamesenseError] = {}
    labelled = groups_labelled(bank, groups, oos) if groups else None  # the files read once
    paired = pair_outcomes(bank, pairs) if pairs else None  # cosines alone: one weight, one margin
    for weight in weights:
        for answer_weight in answer_weights:  # one search of the questions: each margin reads it
            asked = labelled.asked(bank, weight, answer_weight) if labelled else None
            for m in margins:
                outcomes = asked.outcomes(m) if asked else paired
                try:
                    tried[weight, answer_weight, m] = calibrate_weight(bank, target, outcomes, (groups, oos, pairs), m,
                                                                       min_coverage, weight, answer_weight)
                except TargetUnreachable as err:
                    tried[weight, answer_weight, m] = err
    results = {key: r for key, r in tried.items() if isinstance(r, tuple)}
    if not results:  # no weight and margin reach the target: say so for the one that came nearest
        raise max(tried.values(), key=lambda err: err.best_precision)
    chosen = max(results, key=lambda key: (results[key][0].in_scope_accuracy or results[key][0].coverage,
                                           -key[0], -key[1], key[2]))
    result, kept_curve = results[chosen]
    if hybrid == "choose":
        result.hybrid_tried = best_of(tried, 0, chosen)
    if answers == "choose":
        result.answers_tried = best_of(tried, 1, chosen)
    if len(margins) > 1:
        result.margins_tried = best_of(tried, 2, chosen)
    if suggest == "choose":
        # the chosen weights' search again (the questions' vectors are kept): not every pair's kept for one
        result.suggest, result.suggest_right, result.suggest_given = choose_suggest(
            labelled.asked(bank, *chosen[:2]), result.threshold, target)
    if plot:
        plot_curve(kept_curve, result, plot)
    if save:
        bank.set_settings(**result.settings())
    return result


def choose_suggest(asked: Asked, threshold: float, target: float) -> tuple[float, int, int]:
    """(level, right, given): the lowest "did you mean" level at which, of the labelled questions below
    `threshold` that it gives choices (matcher.suggestions), a `target` share have their right entry among
    them (an out-of-scope question given choices counts as a miss), half-way to the next lower best score
    as a threshold is; (1, 0, 0), off, when no level reaches it. The bar is the answers' own: choices a
    customer reads are not an answer, yet a list of wrong ones is what the fallback text is there to avoid."""
    below = [(c, label) for c, label, readable in zip(asked.results, asked.labels, asked.readable)
             if readable and c and c[0].score < threshold]  # the unreadable get no choices at all
    bests = sorted({c[0].score for c, _ in below}, reverse=True)
    chosen = (1.0, 0, 0)
    for i, best in enumerate(bests):
        level = max(-1.0, (best + bests[i + 1]) / 2 if i + 1 < len(bests) else best - 1e-3)
        given = [(c, label) for c, label in below if c[0].score >= level]
        right = sum(label is not None and any(asked.label_of.get(s.entry_id) == label for s in suggestions(c, level))
                    for c, label in given)
        if right / len(given) >= target:
            chosen = (round(level, 6), right, len(given))
    return chosen


def values_of(key: str, given: float | str | None, choices: tuple, own: float) -> list[float]:
    """The values of answer setting `key` to calibrate with: all `choices` ("choose"), the bank's own
    (None) or the one given, each checked against its bounds."""
    return [checked(key, v) for v in (choices if given == "choose" else [own if given is None else float(given)])]


def best_of(tried: dict, axis: int, chosen: tuple) -> dict[str, float | None]:
    """In-scope accuracy at the target of each value tried on `axis` (0 the hybrid weight, 1 the answer
    weight, 2 the margin), the others held as `chosen`; None where the target was not reached."""
    return {f"{key[axis]:g}": (r[0].in_scope_accuracy if isinstance(r, tuple) else None) for key, r in tried.items()
            if all(key[i] == chosen[i] for i in range(len(chosen)) if i != axis)}


def recalibrate(bank: FaqBank, previous: dict, plot: str | os.PathLike | None = None) -> Calibration:
    """Calibrate `bank`, just moved to another model, as `previous` (the old model's stored calibration)
    was: on its files, for its target precision, hybrid and answer weights, the margin chosen anew (groups), and
    the suggest level chosen anew where it chose one; a SamesenseError when its files are gone or the new model
    does not reach the target."""
    files = calibration_files(previous)
    if previous.get("kind") == "pairs":
        return calibrate(bank, previous["target_precision"], pairs=files[0], plot=plot)
    return calibrate(bank, previous["target_precision"], groups=files[0], oos=files[1] if len(files) > 1 else None,
                     margin="choose", plot=plot, hybrid=previous.get("hybrid", 0.0),
                     answers=previous.get("answers", 0.0), suggest=None if previous.get("suggest") is None else "choose")


def calibration_files(previous: dict) -> list[str]:
    """The labelled files a stored calibration was made on; a SamesenseError when they are gone."""
    files = previous.get("files") or []
    gone = [f for f in files if not os.path.isfile(f)]
    if not files or gone:
        raise SamesenseError(f"its labelled files are gone ({', '.join(gone) or 'none recorded'})")
    return files


def calibrate_weight(bank: FaqBank, target: float, outcomes: Outcomes, files: tuple, margin: float,
                     min_coverage: float, weight: float, answers: float) -> tuple[Calibration, Curve]:
    """The threshold for `target` on `outcomes` (asked with these weights and margin), and its curve.
    `files`: (groups, oos, pairs), None where not given."""
    groups = files[0]
    if not outcomes.in_scope.any():
        raise SamesenseError("no in-scope questions (or positive pairs) to calibrate on")
    threshold, i, c = choose(outcomes, target)
    kind = "groups" if groups else "pairs"
    if not c.coverage[i] > 0 or c.coverage[i] < min_coverage:
        raise CoverageTooLow(target, float(c.precision[i]), threshold, float(c.coverage[i]), min_coverage, kind)
    n_in, n_out = int(outcomes.in_scope.sum()), int((~outcomes.in_scope).sum())
    result = Calibration(threshold=round(threshold, 6), target_precision=target, precision=float(c.precision[i]),
                         coverage=float(c.coverage[i]), kind=kind, margin=margin,
                         n_in_scope=n_in, n_out_of_scope=n_out,
                         files=[str(Path(f).resolve()) for f in files if f], model_fingerprint=bank.need_model().fingerprint,
                         created=time.time(), hybrid=weight, answers=answers)
    if groups:
        answered = outcomes.decidable & (outcomes.scores >= threshold)
        result.in_scope_accuracy = float((answered & outcomes.correct).sum() / n_in)
        result.out_of_scope_recall = float(1 - (answered & ~outcomes.in_scope).sum() / n_out) if n_out else None
    return result, c


def plot_curve(c: Curve, result: Calibration, path: str | os.PathLike) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(c.thresholds, c.precision, label="precision (answered correctly / answered)")
    ax.plot(c.thresholds, c.coverage, label="coverage (in-scope answered)")
    if c.out_of_scope_recall is not None:
        ax.plot(c.thresholds, c.out_of_scope_recall, label="out-of-scope refused", alpha=0.7)
    ax.axhline(result.target_precision, color="grey", linestyle=":", label=f"target precision {result.target_precision:g}")
    cap = float(np.nanmax(c.coverage)) if len(c.coverage) else 0.0
    ax.axhline(cap, color="tab:orange", linestyle="-.", alpha=0.6,
               label=f"coverage cap {cap:.3f} at margin {result.margin:g} (the rest too close to call or unreadable)")
    if result.suggest is not None and result.suggest < 1:
        ax.axvline(result.suggest, color="tab:green", linestyle=":", label=f"did you mean from {result.suggest:.3f}: "
                   f"right entry among the choices of {result.suggest_right} of {result.suggest_given}")
    ax.axvline(result.threshold, color="black", linestyle="--",
               label=f"threshold {result.threshold:.3f}: precision {result.precision:.3f}, coverage {result.coverage:.3f}")
    ax.set(xlabel="threshold (cosine of the best match)", ylabel="share",
           title=f"calibration on {result.n_in_scope} in-scope + {result.n_out_of_scope} out-of-scope ({result.kind})",
           ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    atomic_save_png(fig, path)
