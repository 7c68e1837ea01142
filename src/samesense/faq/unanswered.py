"""The unanswered-questions log: each question the service gives no answer (and each answer it
nearly withheld), kept so that a support team sees what to add to the FAQ next.

    with UnansweredLog(UnansweredLog.path_for("support.faq")) as log:
        answer = ask_and_record(bank, log, question)    # what /ask and `ask --record` do
        log.questions(since=time.time() - 7 * 86400)   # most asked first, identical questions as one

Where it lives: a small SQLite file of its own beside the bank, `BANK.unanswered` (`serve
--unanswered-log FILE` puts it elsewhere), not a table in the bank, because
  - a read-only server never writes the bank file (bank.py's rule: a bank another server writes,
    or one on shared storage, stays exactly as it is), yet the questions a public, read-only
    server cannot answer are the ones most worth collecting: its own file it may write;
  - recording is on the answering path: in a file of its own it never waits behind the bank's
    write transactions (a bulk import holds the bank's write lock for seconds), and it does not
    bump the bank's generation, which would make every process holding the bank sync its index;
  - it is what users typed, not FAQ content: exports and re-encodes of the bank leave it out, and
    it can be deleted, or kept under other permissions, without touching the bank.
Several processes (servers, `samesense ask --record`) may write one log; SQLite serialises them.

Bounded: at most `keep` rows (choices.UNANSWERED_ROWS); each record drops the oldest beyond.
Durable: a record is one committed transaction (WAL), so a killed process loses none it made. A
record that cannot be written (disk full, the file locked by another writer for seconds) is a
warning in the service's log, never a failed answer.

What a row holds: the time, the question, the outcome (`abstained`, or `narrow`: answered, but a
threshold `margin` higher or a margin twice as wide would have withheld the answer), the reason,
and the nearest entries (id, matched question, score; never their answers). Read grouped:
questions that differ only in case, punctuation or spacing are one row with how often and when
they were asked, and the latest wording, reason and nearest entries. A question the support team has
handled (`mark`: assigned to an entry as a paraphrase, added as an entry, dismissed) leaves the open
list but stays in the log with its status; asked again afterwards, it is open again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SamesenseError
from .choices import UNANSWERED_ORDERS, UNANSWERED_OUTCOMES, UNANSWERED_ROWS, UNANSWERED_STATUSES
from .database import is_postgres
from .matcher import Answer
from .unanswered_store import UnansweredStore

if TYPE_CHECKING:
    from .bank import FaqBank

__all__ = ["UnansweredLog", "UnansweredQuestion", "ask_and_record", "grouping_key", "outcome_of"]

NEAREST = 3  # nearest entries kept with a question: enough to see what it was mistaken for
SUFFIX = ".unanswered"
log = logging.getLogger("samesense.unanswered")


def grouping_key(question: str) -> str:
    """The same for questions that differ only in case, punctuation or spacing."""
    folded = question.casefold()
    return " ".join(re.findall(r"\w+", folded)) or folded


def outcome_of(answer: Answer, margin: float) -> str | None:
    """"abstained" for no answer; "narrow" for an answer a threshold `margin` higher, or a margin
    twice as wide, would have withheld; None for a clear answer (not recorded)."""
    if not answer.answered:
        return "abstained"
    runner_up = next((c.score for c in answer.candidates if c.answer != answer.answer), None)
    close_to_threshold = answer.score - answer.threshold < margin
    close_to_another = runner_up is not None and answer.score - runner_up < 2 * margin
    return "narrow" if close_to_threshold or close_to_another else None


@dataclass
class UnansweredQuestion:
    """Identical questions asked, as one: the latest wording, reason and nearest entries."""

    question: str
    count: int
    first_asked: float
    last_asked: float
    outcome: str
    reason: str | None
    nearest: list[dict] = field(default_factory=list)  # {"entry_id", "question", "score"}
    status: str = "open"  # the latest row's: open, assigned, added, dismissed
    entry_id: int | None = None  # the entry it was assigned to or added as

    def to_dict(self) -> dict:
        return asdict(self)

    def to_text(self) -> str:
        """For a person: how often, the question, when last, why, and what it came nearest to."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.last_asked))
        lines = [f"{self.count:>6}  {self.question}", f"        last {when}; {self.outcome}: {self.reason or '-'}"]
        if self.status != "open":
            lines[1] += f"; {self.status}" + (f" (entry {self.entry_id})" if self.entry_id is not None else "")
        lines += [f"        nearest: \"{n['question']}\" [entry {n['entry_id']}] ({n['score']:.3f})"
                  for n in self.nearest]
        return "\n".join(lines)


def ask_and_record(bank: FaqBank, log: UnansweredLog | None, question: str, k: int = 5) -> Answer:
    """The bank's answer to `question`; an abstention or a narrow answer (by the bank's margin) is
    recorded in `log` (None: nowhere). A record that cannot be written is a warning, never a failed
    answer. The one way the service's /ask and `samesense ask --record` answer."""
    answer = bank.ask(question, k=k)
    if log is not None:
        log.record(answer, margin=bank.policy.margin)
    return answer


class UnansweredLog:
    """The log file (UnansweredStore): record an answer, read the questions grouped."""

    def __init__(self, path: str | os.PathLike, keep: int = UNANSWERED_ROWS, create: bool = True):
        """`keep`: rows kept, the oldest dropped beyond; `create` False: reading a log that must exist."""
        if keep < 1:
            raise SamesenseError(f"the unanswered-questions log must keep at least 1 row, not {keep}")
        self.keep = keep
        self.store = UnansweredStore(path, create=create)

    @staticmethod
    def path_for(bank_path: str | os.PathLike) -> Path:
        """Where a bank's log lives by default: beside it, BANK.unanswered; a PostgreSQL bank's in
        its own database, tables of its own."""
        if is_postgres(bank_path):
            return bank_path
        bank_path = Path(bank_path)
        return bank_path.with_name(bank_path.name + SUFFIX)

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "UnansweredLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def record(self, answer: Answer, margin: float) -> bool:
        """Keep `answer` if it is an abstention or a narrow answer; whether it was kept. A write that
        fails is a warning, not an error: the question was answered (or not) all the same."""
        outcome = outcome_of(answer, margin)
        if outcome is None:
            return False
        nearest = [{"entry_id": c.entry_id, "question": c.question, "score": c.score}
                   for c in answer.candidates[:NEAREST]]
        try:
            self.store.add(time.time(), answer.question, grouping_key(answer.question), outcome, answer.reason,
                           json.dumps(nearest, ensure_ascii=False), self.keep)
        except Exception as err:  # sqlite3's errors, and whatever else: recording never fails an answer
            log.warning("could not record an unanswered question in %s: %s", self.path, err)
            return False
        return True

    def count(self, since: float | None = None, outcome: str = "abstained", status: str = "open") -> tuple[int, int]:
        """(distinct questions, times asked) since `since` (seconds since the epoch; None: ever),
        with `outcome` (abstained, narrow or all) and `status` (open, assigned, added, dismissed or all)."""
        return self.store.count(since or 0.0, outcomes(outcome), statuses(status))

    def questions(self, since: float | None = None, outcome: str = "abstained", order: str = "count",
                  offset: int = 0, limit: int = 50, status: str = "open") -> list[UnansweredQuestion]:
        """Identical questions as one, most asked first (`order` "count") or most recently asked
        first ("newest"); `since`, `outcome` and `status` as in `count`."""
        if order not in UNANSWERED_ORDERS:
            raise SamesenseError(f"order {order!r}: one of {', '.join(UNANSWERED_ORDERS)}")
        rows = self.store.groups(since or 0.0, outcomes(outcome), statuses(status), order == "newest", offset, limit)
        return [UnansweredQuestion(question, count, first, last, kind, reason, json.loads(nearest), state, entry)
                for question, count, first, last, kind, reason, nearest, state, entry in rows]

    def mark(self, question: str, status: str, entry_id: int | None = None) -> int:
        """The open rows of `question` (and of those differing from it only in case, punctuation
        and spacing) get `status` (assigned, added, dismissed) and the entry it went to; how many
        rows. They leave the open list and stay in the log."""
        if status not in UNANSWERED_STATUSES[1:]:
            raise SamesenseError(f"status {status!r}: one of {', '.join(UNANSWERED_STATUSES[1:])}")
        return self.store.mark(grouping_key(question), status, entry_id)


def outcomes(outcome: str) -> tuple[str, ...]:
    """The outcomes `outcome` stands for: itself, or every one for "all"."""
    return one_or_all(outcome, UNANSWERED_OUTCOMES, "outcome")


def statuses(status: str) -> tuple[str, ...]:
    """The statuses `status` stands for: itself, or every one for "all"."""
    return one_or_all(status, UNANSWERED_STATUSES, "status")


def one_or_all(value: str, choices: tuple[str, ...], what: str) -> tuple[str, ...]:
    if value == "all":
        return choices
    if value not in choices:
        raise SamesenseError(f"{what} {value!r}: one of {', '.join(choices)} or all")
    return (value,)
