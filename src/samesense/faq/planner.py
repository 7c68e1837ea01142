"""Import planning: what a batch of FaqRows does to a bank, decided against the Store and then written
through store_writes.

Rows that share a group are one entry: the first row's question is the entry's question, the other
rows' questions its paraphrases. A row without a group is an entry of its own, named by its
question. Against the store as it stands inside the import's transaction, each such entry is
  add     nothing stored has its group (or, without a group, its question): a new entry
  update  a stored entry has: it gains the questions it lacks and the union of both tag lists; a
          different answer in the file is reported row by row, and kept, replaced or refused as
          `on_change` says (settle_changes: never replaced silently)
and every question the entry already holds is skipped, so importing a file twice adds nothing.
Planning reads and applying writes in the bank's one transaction: an import is all or nothing.
FaqBank.add merges the same way (`repeat_of`); the report says how much of the questions the model
can read (`note_coverage`).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..console import progress
from ..errors import SamesenseError
from . import store_writes
from .choices import ON_CHANGE, TextLimits
from .matcher import unreadable_reason
from .store import Entry, Store
from .text import clean, clean_group, clean_list, unique


@dataclass
class FaqRow:
    """One record to import: a question and its answer, grouped with others by `group`."""

    question: str
    answer: str
    group: str | None = None
    paraphrases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    line: int | None = None  # where it came from, for messages
    lines: dict[str, int] = field(default_factory=dict)  # a merged row: each question's line

    @property
    def key(self) -> tuple[str, str]:
        """What names the entry this row belongs to: its group, or without one its question."""
        return ("group", self.group) if self.group is not None else ("question", self.question)

    @property
    def questions(self) -> list[str]:
        return unique([self.question, *self.paraphrases])

    def line_of(self, question: str) -> int | None:
        return self.lines.get(question, self.line)

    def cleaned(self, limits: TextLimits) -> "FaqRow":
        """The row as a bank stores it (text.py's rules), or a SamesenseError naming its line."""
        try:
            return FaqRow(clean(self.question, "question", limits), clean(self.answer, "answer", limits),
                          clean_group(self.group, limits), clean_list(self.paraphrases, "paraphrases", limits),
                          clean_list(self.tags, "tags", limits), self.line, dict(self.lines))
        except SamesenseError as err:
            raise SamesenseError(f"row{f' of line {self.line}' if self.line else ''}: {err}") from None


EXAMPLES = 3  # unreadable questions an import's warning quotes


@dataclass
class ImportReport:
    rows: int = 0
    entries_added: int = 0
    entries_updated: int = 0
    questions_added: int = 0
    questions_present: int = 0  # questions their entry already held, not added again
    skipped: list[str] = field(default_factory=list)  # messages for malformed rows skipped
    seconds: float = 0.0
    questions_read: int = 0  # distinct questions in the rows (their vocabulary coverage is measured)
    unknown_share: float = 0.0  # their mean share of tokens the model does not know
    unreadable_questions: int = 0  # imported questions the model cannot read (ask would refuse them)
    warnings: list[str] = field(default_factory=list)  # what the user should know: poor vocabulary coverage
    answers_changed: list[str] = field(default_factory=list)  # rows whose answer differs from their entry's


@dataclass
class EntryPlan:
    """The decision for one incoming entry."""

    action: str  # add | update
    entry_id: int | None  # the stored entry an update changes
    answer: str
    tags: list[str]
    group: str | None
    new_questions: list[str]  # to insert, from position `first_position` on
    present_questions: list[str]  # already in the entry: skipped
    first_position: int = 0  # after the questions the entry holds
    stored_answer: str | None = None  # an update's entry's answer as the bank holds it
    line: int | None = None  # the row's, for messages


def merge_rows(rows: Sequence[FaqRow]) -> list[FaqRow]:
    """One row per entry: rows sharing a key are folded into the first (later questions become
    paraphrases, tags are united)."""
    merged: dict[tuple[str, str], FaqRow] = {}
    for row in rows:
        entry = merged.get(row.key)
        if entry is None:
            entry = merged[row.key] = FaqRow(row.question, row.answer, row.group, list(row.paraphrases),
                                             list(row.tags), row.line)
        else:
            entry.paraphrases += [row.question, *row.paraphrases]
            entry.tags = unique(entry.tags + row.tags)
        if row.line is not None:
            entry.lines.update({q: row.line for q in row.questions if q not in entry.lines})
    return list(merged.values())


@dataclass
class Conflict:
    """An incoming entry (a merged row) one of whose questions another stored entry holds, with
    another answer or group: refused, as FaqBank.add refuses it (repeat_of)."""

    row: FaqRow
    question: str
    entry_id: int

    def message(self) -> str:
        return f"question {self.question!r} already in entry {self.entry_id}: change that entry instead"


def plan_import(entries: Sequence[FaqRow], store: Store,
                conn: sqlite3.Connection | None = None) -> tuple[list[EntryPlan], list[Conflict]]:
    """Decide add or update for each merged row, against the store as `conn` sees it (the import's
    write transaction; None reads, for a dry run). One question, one entry, as FaqBank.add has it: a
    row none of whose key the store holds, but whose questions one stored entry holds with the same
    answer and group, is that entry's (an update); a row with a question held by another entry
    (another answer or group) is a Conflict, and planned for no entry."""
    ids = {"group": store.entry_ids_by_group(conn), "question": store.entry_ids_by_question(conn)}
    holders = store.entry_ids_holding([q for row in entries for q in row.questions], conn)
    matched = {row.key: ids[row.key[0]].get(row.key[1]) for row in entries}
    stored = store.entries_by_id([*{i for i in matched.values() if i is not None}, *holders.values()], conn)
    plans: dict[int | tuple, EntryPlan] = {}  # by the entry they change (several rows may join one)
    conflicts = []
    for row in entries:
        existing = stored.get(matched[row.key]) or repeated_entry(row, holders, stored)
        held = set(existing.questions) if existing else set()
        clash = next((q for q in row.questions if q not in held and q in holders), None)
        if clash is not None:
            conflicts.append(Conflict(row, clash, holders[clash]))
            continue
        plan = plans.get(existing.id) if existing else None
        if plan is not None:  # a second row joining the same stored entry
            plan.new_questions += [q for q in row.questions if q not in held and q not in plan.new_questions]
            plan.present_questions += [q for q in row.questions if q in held]
            plan.tags = unique(plan.tags + row.tags)
        elif existing is None:
            plans[row.key] = EntryPlan("add", None, row.answer, row.tags, row.group, list(row.questions), [])
        else:
            plans[existing.id] = EntryPlan("update", existing.id, row.answer, unique(existing.tags + row.tags),
                                           row.group, [q for q in row.questions if q not in held],
                                           [q for q in row.questions if q in held],
                                           first_position=len(existing.questions), stored_answer=existing.answer,
                                           line=row.line)
    return list(plans.values()), conflicts


def repeated_entry(row: FaqRow, holders: Mapping[str, int], stored: Mapping[int, Entry]) -> Entry | None:
    """The stored entry a row named by nothing stored repeats: one holding one of its questions with
    its answer and group (as FaqBank.add merges a repeat), None when there is none."""
    for question in row.questions:
        entry = stored.get(holders.get(question))
        if entry is not None and (entry.answer, entry.group) == (row.answer, row.group):
            return entry
    return None


def apply_plan(plans: Sequence[EntryPlan], conn: sqlite3.Connection, vector_of: Mapping[str, np.ndarray],
               report: ImportReport, show_progress: bool | None = False) -> tuple[list[int], list[str]]:
    """Write the plan in the open transaction `conn` (`vector_of` holds every new question's
    vector) and count it in `report`. Returns the new question ids and their texts, in one order."""
    added_ids, added_texts = [], []
    for plan in progress(plans, "write", "entry", show_progress):
        if plan.action == "add":
            entry_id = store_writes.insert_entry(conn, plan.answer, plan.tags, plan.group)
            report.entries_added += 1
        else:
            entry_id = plan.entry_id
            store_writes.update_entry_fields(conn, entry_id, plan.answer, plan.tags)
            report.entries_updated += 1
        added_ids += store_writes.insert_questions(conn, entry_id, plan.new_questions,
                                            [vector_of[q] for q in plan.new_questions], plan.first_position)
        added_texts += plan.new_questions
        report.questions_present += len(plan.present_questions)
    report.questions_added += len(added_texts)
    return added_ids, added_texts


def settle_conflicts(conflicts: Sequence[Conflict], on_error: str, source: str | os.PathLike | None,
                     report: ImportReport) -> None:
    """Each Conflict as FaqBank.add refuses it: `on_error` "reject" raises (the import's transaction
    writes nothing), "skip" reports it in `report.skipped`; the message names `source` and the line."""
    for conflict in conflicts:
        where = ":".join(str(part) for part in (source, conflict.row.line_of(conflict.question)) if part is not None)
        message = f"{where}: {conflict.message()}" if where else conflict.message()
        if on_error == "reject":
            raise SamesenseError(f"{message} (--on-error skip leaves such rows out)")
        report.skipped.append(message)


def settle_changes(plans: Sequence[EntryPlan], on_change: str, source: str | os.PathLike | None,
                   report: ImportReport) -> None:
    """Each update whose answer differs from its stored entry's, as `on_change` says: "keep" the
    bank's answer, "replace" it with the file's, "error" refuse the import; each reported in
    `report.answers_changed`, its message naming `source` and the row's line."""
    if on_change not in ON_CHANGE:
        raise SamesenseError(f"on_change must be one of {', '.join(ON_CHANGE)}, got {on_change!r}")
    for plan in plans:
        if plan.action != "update" or plan.answer == plan.stored_answer:
            continue
        where = ":".join(str(part) for part in (source, plan.line) if part is not None)
        message = (f"{where + ': ' if where else ''}{'group ' + repr(plan.group) if plan.group else 'the row'} joins "
                   f"entry {plan.entry_id}, whose answer is another")
        if on_change == "error":
            raise SamesenseError(f"{message} (--on-change keep adds its questions and keeps the bank's answer, "
                                 "replace takes the file's)")
        if on_change == "keep":
            plan.answer = plan.stored_answer
            report.answers_changed.append(f"{message}: kept the bank's answer (--on-change replace takes the file's)")
        else:
            report.answers_changed.append(f"{message}: replaced it with the file's answer")


class HeldByAnotherEntry(SamesenseError):
    """A write refused because another entry holds one of its questions, or its group: one question,
    one entry (HTTP: 409 Conflict)."""


def held_elsewhere(store: Store, conn: sqlite3.Connection, entry_id: int, texts: Sequence[str]) -> None:
    """HeldByAnotherEntry when an entry other than `entry_id` holds one of `texts`."""
    for text, holder in store.entry_ids_holding(texts, conn).items():
        if holder != entry_id:
            raise HeldByAnotherEntry(f"question {text!r} already in entry {holder}: change that entry instead")


def repeat_of(store: Store, conn: sqlite3.Connection, questions: list[str], answer: str,
              group: str | None) -> Entry | None:
    """The stored entry that adding these questions is a repeat of (same answer, same group), None
    when there is none; a SamesenseError when an entry with another answer or group holds one of
    the questions or the group."""
    holders = store.entry_ids_holding(questions, conn)
    by_group = store.entry_by_group(group, conn) if group is not None else None
    if by_group is not None and by_group.answer != answer:
        raise HeldByAnotherEntry(f"group {group!r} already exists (entry {by_group.id}, with another answer): "
                                 "change that entry instead")
    entries = store.entries_by_id(list(holders.values()), conn)
    same = by_group or next((e for e in entries.values() if (e.answer, e.group) == (answer, group)), None)
    for text, entry_id in holders.items():
        if same is None or entry_id != same.id:
            raise HeldByAnotherEntry(f"question {text!r} already in entry {entry_id}: change that entry instead")
    return same


def note_coverage(report: ImportReport, texts: list[str], shares: Sequence[float], max_unknown: float) -> None:
    """How much of the FAQ's own questions the model can read (`shares`: each text's share of unknown
    tokens), into `report`: the mean share, and a warning naming a few of the questions `ask` would
    refuse to read (a model trained on other text: another language, another field's words)."""
    poor = [text for text, share in zip(texts, shares) if unreadable_reason(share, max_unknown)]
    read = report.questions_read + len(texts)  # a report may gather several calls
    report.unknown_share = (report.unknown_share * report.questions_read + sum(shares)) / max(read, 1)
    report.questions_read, report.unreadable_questions = read, report.unreadable_questions + len(poor)
    if poor:
        examples = ", ".join(repr(text if len(text) <= 60 else text[:57] + "...") for text in poor[:EXAMPLES])
        report.warnings.append(
            f"the model cannot read {len(poor)} of the {len(texts)} questions ({len(poor) / len(texts):.0%}; "
            f"more than {max_unknown:.0%} of their tokens unknown, {sum(shares) / len(texts):.0%} of all tokens), "
            f"e.g. {examples}: asked as they are, they go unanswered; use a model trained on such text")


# -- the writes of FaqBank.add and .update, inside the bank's transaction: each gives what the bank's
#    _commit applies to the index, (entry id, question ids added, their vectors, question ids removed)

def add_questions(store: Store, conn: sqlite3.Connection, questions: list[str], answer: str, tags: list[str],
                  group: str | None, vector_of: Mapping[str, np.ndarray], dim: int) -> tuple:
    """A new entry of these questions; or the stored entry this add repeats (repeat_of), gaining the
    questions and tags it lacks."""
    same = repeat_of(store, conn, questions, answer, group)
    if same is None:
        entry_id, new = store_writes.insert_entry(conn, answer, tags, group), questions
    else:
        entry_id, new = same.id, [q for q in questions if q not in set(same.questions)]
        if not new and set(tags) <= set(same.tags):
            return entry_id, [], store_writes.matrix(vector_of, [], dim), []  # a repeat: nothing to write
        store_writes.update_entry_fields(conn, entry_id, tags=unique(same.tags + tags))
    vectors = store_writes.matrix(vector_of, new, dim)
    first = len(same.questions) if same is not None else 0
    return entry_id, store_writes.insert_questions(conn, entry_id, new, vectors, first), vectors, []


def edit_questions(conn: sqlite3.Connection, entry_id: int, rows: list[tuple[int, int, str]], change,
                   encoded: dict[str, np.ndarray], model) -> tuple:
    """Make the entry what `change` (entry_change.EntryChange) says: its questions `change.texts`, in
    that order (`rows`: its stored questions), a question kept keeping its row and vector, a new one
    inserted with its vector from `encoded` (encoded here if another writer added it meanwhile); the
    answer, tags and group changed when given."""
    by_text = {text: qid for qid, _, text in rows}
    texts = change.texts
    fresh = [t for t in texts if t not in by_text]
    late = [t for t in fresh if t not in encoded]  # another writer changed the entry meanwhile
    if late:
        if model is None:
            raise SamesenseError(f"entry {entry_id} changed meanwhile: its new questions need the bank's model")
        encoded.update(zip(late, model.encode(late)))
    vectors = store_writes.matrix(encoded, fresh, model.dim if model is not None else 0)
    removed = [qid for qid, _, text in rows if text not in texts]
    store_writes.delete_questions(conn, removed)
    added = store_writes.insert_questions(conn, entry_id, fresh, vectors, first_position=len(rows) + len(texts))
    by_text.update(zip(fresh, added))
    store_writes.set_positions(conn, {by_text[t]: position for position, t in enumerate(texts)})
    store_writes.update_entry_fields(conn, entry_id, change.answer, change.tags)
    if change.changes_group:
        store_writes.set_group(conn, entry_id, change.group)
    return entry_id, added, vectors, removed
