"""Fixing the bank from the unanswered-questions log: what the support team does with a question the
service could not answer, in the page (serve_loop.py's routes) and the commands (cli/faq_edit.py).

    assign(bank, log, "how do i change my pin", 2)    # a paraphrase of entry 2 (the log's nearest first)
    add_entry(bank, log, "do you ship abroad", "Yes, to the EU.")    # a new entry
    dismiss(log, "asdf")                               # nothing to add

The bank is written first, then the log: a write the bank refuses (the question held by another
entry, a text too long) leaves the question open. The question leaves the open list with its status
(unanswered.UnansweredLog.mark) and stays in the log, so its counts and history remain. A bank
written without a log (a server that keeps none) is written all the same.
"""

from __future__ import annotations

from typing import Sequence

from ..errors import SamesenseError
from .bank import FaqBank
from .store import Entry
from .unanswered import UnansweredLog


class NotInLog(SamesenseError):
    """A question to dismiss that the log holds no open row of (HTTP: 404)."""


def assign(bank: FaqBank, log: UnansweredLog | None, question: str, entry_id: int) -> tuple[Entry, int]:
    """`question` becomes a paraphrase of entry `entry_id` (its other paraphrases kept); (the entry,
    the log rows marked assigned)."""
    entry = bank.update(entry_id, add_paraphrases=[question])
    return entry, log.mark(question, "assigned", entry.id) if log is not None else 0


def add_entry(bank: FaqBank, log: UnansweredLog | None, question: str, answer: str, paraphrases: Sequence[str] = (),
              tags: Sequence[str] = (), group: str | None = None) -> tuple[Entry, int]:
    """`question` becomes an entry of its own (FaqBank.add); (the entry, the log rows marked added)."""
    entry = bank.add(question, answer, paraphrases, tags, group)
    return entry, log.mark(question, "added", entry.id) if log is not None else 0


def dismiss(log: UnansweredLog, question: str) -> int:
    """`question` needs no entry (spam, a test, out of scope for good): the log rows marked
    dismissed, or NotInLog when none was open."""
    marked = log.mark(question, "dismissed")
    if not marked:
        raise NotInLog(f"no open question {question!r} in the unanswered-questions log")
    return marked
