"""FaqBank: the store, a model and the vector index kept in step.

    bank = FaqBank.open("support.faq", model="runs/mine/model")
    bank.add("how do i reset my pin", "Settings > Security > Reset PIN.", paraphrases=["forgot my pin"])
    bank.ask("i can't remember my pin")     # Answer(answered=True, answer="Settings > ...", ...)

Every write goes to the store first (one transaction), then to the index, under one lock: a reader
here never sees the index ahead of the store. Other processes' writes are noticed by the store's
generation, before each search (or when a replica's follower is told). Texts obey text.py's rules.

A bank never mixes models (model_choice.py). What a write does is decided in planner.py (an
entry's change in entry_change.py), the SQL is in store.py and store_writes.py, the index kept in
index_keeper.py, a question answered in search.py with policy.py's settings; this file keeps them agreeing.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import SamesenseError
from ..protocols import TextEncoder
from . import store_writes
from .choices import TextLimits
from .entry_change import KEEP, EntryChange, group_held_elsewhere
from .importer import check_on_error
from .index import VectorIndex, kind_for
from .index_keeper import IndexKeeper, graph_path
from .matcher import Answer, Candidate
from .model_choice import choose_model, claim_model, encode_texts, reencode, stored_model
from .planner import (FaqRow, ImportReport, add_questions, apply_plan, edit_questions, held_elsewhere, merge_rows,
                      note_coverage, plan_import, settle_changes, settle_conflicts)
from .policy import MODEL_SETTINGS, AnswerPolicy, checked_settings
from .search import BankSearch
from .store import Entry, NoSuchEntry, Store
from .text import SURROGATES, clean, clean_group, clean_list, unique

__all__ = ["FaqBank", "FaqRow", "ImportReport", "NoSuchEntry"]


class FaqBank:
    def __init__(self, store: Store, model: TextEncoder | None = None, show_progress: bool | None = False,
                 limits: TextLimits | None = None):
        self.store = store
        self.model = model
        self.show_progress = show_progress
        self.limits = limits or TextLimits()
        self.lock = threading.RLock()
        self.keeper: IndexKeeper | None = None  # the vector index, with a model
        self.searcher = BankSearch(self)
        self.generation = -1
        self.followed = False  # a follower keeps it in step (follower.py): a question need not look
        self.settings = self.store.settings()
        self._policy: tuple[dict, AnswerPolicy] | None = None  # the settings it was made from, and it
        self.notices: list[str] = []  # what opening it did that the user must know (settings reset for a new model)
        if model is not None:
            self._attach(model)

    @classmethod
    def open(cls, path: str | os.PathLike, model: TextEncoder | str | os.PathLike | None = None,
             create: bool = True, show_progress: bool | None = False, read_only: bool = False,
             limits: TextLimits | None = None) -> "FaqBank":
        """Open (or create) a bank: `path` a file, or a postgresql:// address (store.py). `model`: a
        loaded encoder, a spec naming one (a model or run folder, a sentence-transformers folder, or a
        baseline: minilm, e5-small; see samesense.encoder_spec), or None for the one the bank remembers.
        `read_only`: for a process that only reads (a read-only server, `ask`, a calibration dry
        run): the bank must exist, and nothing is written to it or to its index file, ever. With a
        model other than the bank's, the stored questions are encoded with it in memory, for this
        process alone: a read-only server can try another model on a bank that a writable server goes
        on serving. Writable (the default), another model re-encodes the bank for good. `limits`: the
        longest texts (and lists) this process stores (default: choices.TextLimits)."""
        store = Store(path, create=create and not read_only, read_only=read_only)
        try:
            return cls(store, choose_model(store, model, remember=not read_only), show_progress, limits)
        except BaseException:
            store.close()
            raise

    @classmethod
    def remove_if_empty(cls, path: str | os.PathLike) -> bool:
        """Delete a bank that holds no entry, with the files SQLite and the index keep beside it
        (what a failed first import leaves); whether it was deleted."""
        try:
            with cls.open_without_model(path) as bank:
                if bank.count() != (0, 0) or bank.store.db.shared:  # a database's tables: the server's to drop
                    return False
        except SamesenseError:
            return False  # not a bank (or none): not ours to delete
        path = Path(path)
        for suffix in ("", "-wal", "-shm", "-journal", ".hnsw"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return True

    @classmethod
    def open_without_model(cls, path: str | os.PathLike) -> "FaqBank":
        """An existing bank with no model and no index: enough to list, export, count or delete
        entries, without loading a model (torch) or building the index. A bank opened later with
        its model brings its index up to date."""
        store = Store(path, create=False)
        try:
            return cls(store)
        except BaseException:
            store.close()
            raise

    path = property(lambda self: self.store.path)
    read_only = property(lambda self: self.store.read_only)

    @property
    def index(self) -> VectorIndex | None:  # of the stored questions (index_keeper.py); None without a model
        return self.keeper.index if self.keeper is not None else None

    @property
    def index_kind(self) -> str | None:  # flat or hnsw; None when opened without a model
        return self.index.kind if self.index is not None else None

    @property
    def index_path(self) -> Path | None:
        return graph_path(self.path)

    def close(self) -> None:
        with self.lock:
            if self.keeper is not None:
                self.keeper.save()
            self.store.close()

    def __enter__(self) -> "FaqBank":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def need_model(self) -> TextEncoder:
        if self.model is None:
            raise SamesenseError(f"{self.path}: the bank has no model yet; name one with --model (a model folder, minilm or e5-small)")
        return self.model

    # -- settings, model and index ------------------------------------------------------------

    @property
    def policy(self) -> AnswerPolicy:
        """The answer settings, typed: made once from each read of the stored settings, when first
        asked for (so a bank whose stored value is out of bounds still opens, and `faq set` puts it
        right), and from the settings this thread sees (another may read them anew meanwhile)."""
        settings, made = self.settings, self._policy
        if made is None or made[0] is not settings:
            made = self._policy = (settings, AnswerPolicy.from_settings(settings, str(self.path)))
        return made[1]

    def _attach(self, model: TextEncoder) -> None:
        if stored_model(self.store) not in ((None, None), (model.fingerprint, model.dim)) and not self.read_only:
            self.notices += filter(None, [self.reencode(model)])
        self.model = model
        self.keeper = IndexKeeper(self.store, model, self.show_progress)
        with self.lock:
            self._build_index()

    def reencode(self, model: TextEncoder) -> str | None:
        """Encode every stored question with `model` and make the bank that model's, its answer settings
        a new bank's (model_choice.py); what was reset, in words."""
        return reencode(self.store, model, self.lock, self.show_progress)

    def wanted_kind(self, questions: int) -> str:
        return kind_for(self.settings["index"], self.settings["hnsw_above"], questions)

    def _build_index(self) -> None:
        """Load or build the index and make it agree with the store (called with the lock held)."""
        self.generation = self.store.generation()  # first: a write after this is seen next time
        self.settings = self.store.settings()
        store_ids = self.store.question_ids()
        self.keeper.build(self.wanted_kind(len(store_ids)), store_ids)

    def refresh(self, followed_too: bool = False) -> None:
        """Catch up with other processes' writes (one small read when there were none); a bank its
        follower keeps in step (`followed`: follower.py) is left to it, unless `followed_too`."""
        if (self.followed and not followed_too) or self.store.generation() == self.generation:
            return
        with self.lock:
            if self.store.generation() == self.generation:  # caught up by the write it waited for
                return
            self.generation = self.store.generation()
            self.settings = self.store.settings()
            if self.index is None:  # opened without a model: no index to catch up
                return
            if self.index.kind != self.wanted_kind(self.store.count()[1]):
                self._build_index()
            else:
                self.keeper.sync()

    # -- writing ------------------------------------------------------------------------------

    def _commit(self, write: Callable, stores_vectors: bool = True) -> object:
        """Run `write(conn) -> (result, added_ids, added_vectors, removed_ids)` in one transaction,
        then apply it to the index, all under the lock. `stores_vectors`: the write adds vectors
        made by this process's model, which must then be the bank's (checked in the transaction)."""
        with self.lock:
            with self.store.write() as conn:
                before = self.store.setting("generation", conn)
                if stores_vectors:
                    claim_model(self.store, self.need_model(), conn)
                result, added_ids, added_vectors, removed_ids = write(conn)
            self.settings = self.store.settings()
            if self.index is not None:
                self.index.remove(removed_ids)
                if before != self.generation:  # another process wrote first: catch up with the store, this
                    self.keeper.sync()  # write's questions among the new ones (only_added: no reading every id)
                else:
                    self.index.add(np.asarray(added_ids, dtype=np.int64), added_vectors)
                    if self.index.needs_rebuild():
                        self._build_index()
            self.generation = self.store.generation()
            return result

    def add(self, question: str, answer: str, paraphrases: Sequence[str] = (), tags: Sequence[str] = (),
            group: str | None = None) -> Entry:
        """A new entry; or, when an entry already holds one of these questions (or this group) with
        the same answer and group, that same entry, which gains the questions and tags it lacks (as
        an import merges), so adding twice makes one entry. A question or group held by an entry
        with another answer or group is refused: change that entry instead (update)."""
        limits = self.limits
        questions = unique([clean(question, "question", limits), *clean_list(paraphrases, "paraphrases", limits)])
        answer, group = clean(answer, "answer", limits), clean_group(group, limits)
        tags = clean_list(tags, "tags", limits)
        vector_of = dict(zip(questions, self.need_model().encode(questions)))
        return self.get(self._commit(lambda conn: add_questions(self.store, conn, questions, answer, tags, group,
                                                                vector_of, self.model.dim)))

    def update(self, entry_id: int, question: str | None = None, answer: str | None = None,
               paraphrases: Sequence[str] | None = None, tags: Sequence[str] | None = None, group: str | None = KEEP,
               add_paraphrases: Sequence[str] = (), remove_paraphrases: Sequence[str] = ()) -> Entry:
        """Change what is given (entry_change.py: `paraphrases` replaces the list, `add_paraphrases`
        and `remove_paraphrases` keep the others); questions keep their vectors unless their text
        changes, and a change that adds no question needs no model."""
        current = self.get(entry_id)
        if current is None:
            raise NoSuchEntry(entry_id)
        change = EntryChange.of(current, self.limits, question, answer, paraphrases, tags, group, add_paraphrases,
                                remove_paraphrases)
        new_texts = [t for t in change.texts if t not in set(current.questions)]
        model = self.need_model() if new_texts else self.model
        encoded = dict(zip(new_texts, model.encode(new_texts))) if new_texts else {}

        def write(conn):
            rows = store_writes.question_rows(conn, entry_id)
            if not rows:
                raise NoSuchEntry(entry_id)
            held_elsewhere(self.store, conn, entry_id, change.texts)  # one question, one entry, as add has it
            group_held_elsewhere(self.store, conn, entry_id, change.group)
            return edit_questions(conn, entry_id, rows, change, encoded, model)

        return self.get(self._commit(write, stores_vectors=bool(new_texts)))

    def delete(self, entry_id: int) -> bool:
        """Whether there was such an entry to delete (any process may delete: no vector is stored)."""
        def write(conn):
            removed = store_writes.delete_entry(conn, int(entry_id))
            return bool(removed), [], np.zeros((0, self.index.dim if self.index else 0)), removed

        return self._commit(write, stores_vectors=False)

    def import_rows(self, rows: Sequence[FaqRow], report: ImportReport | None = None, on_error: str = "reject",
                    source: str | os.PathLike | None = None, on_change: str = "keep") -> ImportReport:
        """Add rows as entries, or to the entries already holding their group or question (see
        planner.py). All or nothing: one transaction. A row with a question another entry holds is
        refused or skipped per `on_error`, its message naming `source` (planner.settle_conflicts); one
        with another answer than its stored entry's keeps or replaces it, or is refused, per `on_change`."""
        check_on_error(on_error)
        report = report or ImportReport()
        started = time.perf_counter()
        entries = merge_rows([row.cleaned(self.limits) for row in rows])
        report.rows += len(rows)
        texts = unique(q for entry in entries for q in entry.questions)
        model = self.need_model()
        note_coverage(report, texts, model.unknown_fraction(texts), self.policy.max_unknown)
        vector_of = encode_texts(model, texts, self.show_progress)

        def write(conn):
            plans, conflicts = plan_import(entries, self.store, conn)
            settle_conflicts(conflicts, on_error, source, report)
            settle_changes(plans, on_change, source, report)
            added_ids, added_texts = apply_plan(plans, conn, vector_of, report, self.show_progress)
            return report, added_ids, store_writes.matrix(vector_of, added_texts, model.dim), []

        self._commit(write)
        with self.lock:
            if self.index.kind != self.wanted_kind(len(self.index)):
                self._build_index()
            self.keeper.save()
        report.seconds = time.perf_counter() - started
        return report

    def set_settings(self, **values) -> None:
        """Several settings in one write; a threshold or calibration measured with this process's
        model is refused when that model is no longer the bank's. The answer settings (threshold,
        margin, max_unknown, hybrid, answers) must be numbers within choices.ANSWER_BOUNDS (policy.py)."""
        values = checked_settings(values)
        with self.lock:
            with self.store.write() as conn:
                if self.model is not None and MODEL_SETTINGS & values.keys():
                    claim_model(self.store, self.model, conn)
                for key, value in values.items():
                    Store.put_setting(conn, key, value)
            self.settings = self.store.settings()

    # -- reading ------------------------------------------------------------------------------

    def get(self, entry_id: int) -> Entry | None:
        return self.store.entry(entry_id)

    def list_entries(self, offset: int = 0, limit: int | None = None, contains: str | None = None) -> list[Entry]:
        """Entries by id; `contains`: only those whose question, paraphrase or answer holds it. An
        offset past the last entry gives none."""
        if contains is not None and SURROGATES.search(contains):
            raise SamesenseError("contains: not valid UTF-8")
        return self.store.list_entries(offset, limit, contains)

    def count(self, contains: str | None = None) -> tuple[int, int]:
        """(entries, question vectors); `contains`: of the entries list_entries gives for it."""
        return self.store.count(contains)

    def search(self, questions: Sequence[str], k: int = 5, hybrid: float | None = None,
               answers: float | None = None, vectors: np.ndarray | None = None) -> list[list[Candidate]]:
        """For each question, up to k entries, best first (search.py: weights; `vectors`: the caller's encoding)."""
        return self.searcher.search(questions, k, hybrid, answers, vectors)

    def ask(self, question: str, k: int = 5) -> Answer:
        """The answer, or none with the reason (search.py, matcher.py)."""
        return self.searcher.ask(question, k)

    def unreadable(self, questions: Sequence[str]) -> list[str | None]:
        """For each question, why the model cannot read it, or None when it can (search.py)."""
        return self.searcher.unreadable(questions)

    def info(self) -> dict:
        """Counts, model, index and answer settings. `index`: the kind in use, or, opened without a
        model (faq info), the kind the bank's next open would build."""
        self.refresh()  # what other processes wrote since included (a server's /healthz)
        entries, questions = self.count()
        s = self.settings
        index = self.index_kind or f"{self.wanted_kind(questions)} (not built: opened without a model)"
        return {"bank": str(self.path), "entries": entries, "questions": questions,
                "index": index, "model_fingerprint": s.get("model_fingerprint"),
                "model_in_use": self.model.fingerprint if self.model is not None else None,
                "read_only": self.read_only, "model_path": s.get("model_path"),
                **self.policy.as_settings(), "calibration": s.get("calibration")}
