"""Answer or abstain: what to do with the nearest stored questions of a new question.

The rule, in order:
  the model cannot read the question        -> no answer, "the model cannot read this question", and
  (its share of unknown tokens above           no candidates: their scores would say nothing
  `max_unknown`, or all of it unknown)
  no candidates                             -> no answer, "empty bank"
  best score below the threshold            -> no answer, "below threshold"; with the best score at
                                               least the bank's `suggest` setting (off by default),
                                               up to three "did you mean" choices (suggest_choices,
                                               applied by search.py's ask)
  another entry with a different answer
  scores within `margin` of the best        -> no answer, "too close to call", with the close
                                               ones as "did you mean" choices
  otherwise                                 -> the best entry's answer
Candidates are entries (a question's paraphrases all point to one entry, scored by the best of
them); two entries with the same answer text do not compete.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

SUGGESTIONS = 3  # "did you mean" choices for a question below the threshold: a few to read, not a list


@dataclass
class Candidate:
    entry_id: int
    question: str  # the stored question (or paraphrase) that matched best
    answer: str
    score: float


@dataclass
class Answer:
    question: str
    answered: bool
    threshold: float
    answer: str | None = None
    entry_id: int | None = None
    matched_question: str | None = None
    score: float | None = None
    reason: str | None = None  # why there is no answer
    did_you_mean: list[Candidate] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_text(self) -> str:
        """For a person: the question, the answer or why there is none, and the candidates."""
        lines = [self.question]
        if self.answered:
            lines.append(f"  answer ({self.score:.3f}, matched \"{self.matched_question}\"): {self.answer}")
        else:
            lines.append(f"  no confident answer: {self.reason}")
            for c in self.did_you_mean:
                lines.append(f"  did you mean: \"{c.question}\" ({c.score:.3f}) -> {c.answer}")
        for rank, c in enumerate(self.candidates, 1):
            lines.append(f"    {rank}. {c.score:.3f}  {c.question}  [entry {c.entry_id}]")
        return "\n".join(lines)


def close_choices(candidates: list[Candidate], margin: float) -> list[Candidate]:
    """The candidates within `margin` of the best, one per answer; more than one means too close."""
    if not candidates:
        return []
    best = candidates[0].score
    choices: dict[str, Candidate] = {}
    for c in candidates:
        if best - c.score < margin:
            choices.setdefault(c.answer, c)
    return list(choices.values())


def suggest_choices(answer: Answer, suggest: float) -> Answer:
    """`answer` with "did you mean" choices when it is no answer because its best score is below
    the threshold yet at least `suggest`: its candidates scoring `suggest` or more, one per answer,
    best first, at most SUGGESTIONS. Any other answer (answered, too close to call, unreadable, an
    empty bank) as it is; `suggest` 1 (the default) is off, as a score below a threshold is below 1."""
    candidates = answer.candidates
    if answer.answered or answer.did_you_mean or not candidates:
        return answer
    if candidates[0].score < answer.threshold:
        answer.did_you_mean = suggestions(candidates, suggest)
    return answer


def suggestions(candidates: list[Candidate], suggest: float) -> list[Candidate]:
    """The "did you mean" choices at level `suggest` of a question whose best score is below the
    threshold (`candidates` best first): those scoring `suggest` or more, one per answer, at most
    SUGGESTIONS; none when the best is below `suggest`."""
    return close_choices([c for c in candidates if c.score >= suggest], math.inf)[:SUGGESTIONS]


def unreadable_reason(unknown: float, max_unknown: float) -> str | None:
    """Why a question whose share of unknown tokens is `unknown` is not answered, or None when it
    is readable. All unknown (or no token at all: 1.0) is unreadable even at max_unknown 1: its
    vector would be the same few unknown embeddings whatever the question asks."""
    if unknown > max_unknown or unknown >= 1.0:
        return f"the model cannot read this question ({unknown:.0%} unknown tokens, limit {max_unknown:.0%})"
    return None


def unreadable_answer(question: str, reason: str, threshold: float) -> Answer:
    """The answer to a question the model cannot read: none, and no candidates to tempt anyone."""
    return Answer(question=question, answered=False, threshold=threshold, reason=reason)


def decide(question: str, candidates: list[Candidate], threshold: float, margin: float) -> Answer:
    """`candidates`: one per entry, best first."""
    result = Answer(question=question, answered=False, threshold=threshold, candidates=candidates)
    if not candidates:
        result.reason = "empty bank"
        return result
    best = candidates[0]
    if best.score < threshold:
        result.reason = f"below threshold {threshold:.3f} (best {best.score:.3f})"
        return result
    choices = close_choices(candidates, margin)
    if len(choices) > 1:
        result.reason = f"too close to call ({best.score:.3f} vs {choices[1].score:.3f}, margin {margin:.3f})"
        result.did_you_mean = choices
        return result
    result.answered = True
    result.answer, result.entry_id = best.answer, best.entry_id
    result.matched_question, result.score = best.question, best.score
    return result
