"""How a bank decides to answer, typed: its answer settings (choices.py says what each means) as one
frozen value, checked once when it is made.

    policy = AnswerPolicy.from_settings(store.settings(), "support.faq")   # a bad value: an error naming it
    decide(question, candidates, policy.threshold, policy.margin)

The bank stores the settings as JSON values beside its other settings; every reader takes them from
here, never from the stored dict. Light on purpose (no numpy): `faq set` builds one for its --reset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Mapping

from ..errors import SamesenseError
from .choices import ANSWER_BOUNDS, ANSWER_DEFAULTS

# settings measured with a model: another model's vectors make them meaningless
MODEL_SETTINGS = {"threshold", "calibration", "hybrid", "answers", "suggest"}
# the settings `calibrate` chooses and stores with its calibration: one set by hand forgets that calibration
CALIBRATED_SETTINGS = ("threshold", "margin", "hybrid", "answers")


@dataclass(frozen=True)
class AnswerPolicy:
    threshold: float = ANSWER_DEFAULTS["threshold"]  # the best match's score must reach it
    margin: float = ANSWER_DEFAULTS["margin"]  # another answer closer than this: "did you mean"
    max_unknown: float = ANSWER_DEFAULTS["max_unknown"]  # a question with more unknown tokens is not read
    hybrid: float = ANSWER_DEFAULTS["hybrid"]  # the weight of BM25 in the score
    answers: float = ANSWER_DEFAULTS["answers"]  # the weight of the entry's answer text in its score
    suggest: float = ANSWER_DEFAULTS["suggest"]  # below the threshold, at least this: "did you mean" (1: off)

    def __post_init__(self):
        for setting in fields(self):
            object.__setattr__(self, setting.name, checked(setting.name, getattr(self, setting.name)))

    @classmethod
    def from_settings(cls, settings: Mapping, source: str = "settings") -> "AnswerPolicy":
        """The policy of a bank's stored settings (a setting not stored: its default); a value out of
        bounds is a SamesenseError naming `source` (the bank) and the setting."""
        try:
            return cls(**{key: settings[key] for key in ANSWER_DEFAULTS if key in settings})
        except SamesenseError as err:
            raise SamesenseError(f"{source}: stored {err}") from None

    def as_settings(self) -> dict[str, float]:
        """The settings as a bank stores them, in choices.ANSWER_DEFAULTS' order."""
        return asdict(self)


def checked(key: str, value) -> float:
    """`value` as a float if it is a finite number within ANSWER_BOUNDS[key], else a SamesenseError
    naming the setting."""
    low, high = ANSWER_BOUNDS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise SamesenseError(f"{key} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def checked_settings(values: Mapping) -> dict:
    """`values` with each answer setting among them checked (as `checked`), the others as given: what a
    write of settings stores."""
    return {key: checked(key, value) if key in ANSWER_BOUNDS else value for key, value in values.items()}
