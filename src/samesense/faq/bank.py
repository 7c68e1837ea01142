"""FaqBank: the store, a model and the vector index kept in step.

    bank = FaqBank.open("support.faq", model="runs/mine/model")
    bank.add("how do i reset my pin", "Settings > Security > Reset PIN.", paraphrases=["forgot my pin"])
    bank.ask("i can't remember my pin")     # Answer(answered=True, answer="Settings > ...", ...)

Every write goes to SQLite first (one transaction) and then to the index, under one lock, so a
reader in this process never sees the index ahead of the store. A bank opened in another process
is noticed by the store's generation counter: before each search the index is synced with the store
if the counter moved. When the model's fingerprint differs from the one the vectors were made with,
every question is encoded again (a model is named by its fingerprint, not by its path).

What an import does is decided in planner.py, how the SQL goes in store.py; this file keeps the
three parts agreeing and answers from them.
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
from .index import VectorIndex, kind_for
from .matcher import Answer, Candidate, decide
from .model_choice import choose_model
from .planner import FaqRow, ImportReport, apply_plan, merge_rows, plan_import
from .store import Entry, Store
from .text import clean, unique

__all__ = ["FaqBank", "FaqRow", "ImportReport", "NoSuchEntry"]


class NoSuchEntry(SamesenseError):
    def __init__(self, entry_id: int):
        super().__init__(f"no entry {entry_id}")


class FaqBank:
    def __init__(self, store: Store, model: TextEncoder | None = None, show_progress: bool | None = False):
        self.store = store
        self.model = model
        self.show_progress = show_progress
        self.lock = threading.RLock()
        self.index: VectorIndex | None = None
        self.generation = -1
        self.settings = store.settings()
        if model is not None:
            self._attach(model)

    @classmethod
    def open(cls, path: str | os.PathLike, model: TextEncoder | str | os.PathLike | None = None,
             create: bool = True, show_progress: bool | None = False) -> "FaqBank":
        """Open (or create) a bank. `model`: a loaded model, a model folder, or None for the one the
        bank remembers (if its folder is still there)."""
        store = Store(path, create=create)
        try:
            return cls(store, choose_model(store, model), show_progress)
        except BaseException:
            store.close()
            raise

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

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def index_kind(self) -> str | None:
        """The vector index's kind (flat or hnsw); None when opened without a model."""
        return self.index.kind if self.index is not None else None

    @property
    def index_path(self) -> Path:
        return self.store.path.with_name(self.store.path.name + ".hnsw")

    def close(self) -> None:
        with self.lock:
            self._save_index()
            self.store.close()

    def __enter__(self) -> "FaqBank":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def need_model(self) -> TextEncoder:
        if self.model is None:
            raise SamesenseError(f"{self.path}: the bank has no model yet; name one with --model DIR")
        return self.model

    # -- model and index ----------------------------------------------------------------------

    def _attach(self, model: TextEncoder) -> None:
        settings = self.store.settings()
        if settings.get("model_fingerprint") not in (None, model.fingerprint) or settings.get("dim") not in (None, model.dim):
            self.reencode(model)
        elif settings.get("model_fingerprint") is None:
            self.store.put_settings(model_fingerprint=model.fingerprint, dim=model.dim)
        self.model = model
        with self.lock:
            self._build_index()

    def reencode(self, model: TextEncoder) -> None:
        """Encode every stored question with `model` (a new model means new vectors)."""
        ids, texts = self.store.question_texts()
        vectors = model.encode(texts, show_progress=self.show_progress) if texts else np.zeros((0, model.dim))
        with self.lock, self.store.write() as conn:
            Store.replace_vectors(conn, ids, vectors)
            Store.put_setting(conn, "model_fingerprint", model.fingerprint)
            Store.put_setting(conn, "dim", model.dim)

    def wanted_kind(self, questions: int) -> str:
        return kind_for(self.settings["index"], self.settings["hnsw_above"], questions)

    def _build_index(self) -> None:
        """Load or build the index and make it agree with the store (called with the lock held)."""
        self.generation = self.store.generation()  # first: a write after this is seen next time
        self.settings = self.store.settings()
        store_ids = self.store.question_ids()
        kind, dim, fingerprint = self.wanted_kind(len(store_ids)), self.model.dim, self.model.fingerprint
        saved = VectorIndex.load(self.index_path, dim, kind, fingerprint) if kind == "hnsw" else None
        self.index = saved if saved is not None else VectorIndex(dim, kind)
        self._sync(store_ids)
        self._save_index()  # repaired: don't repeat the work next time
        if kind == "flat" and self.index_path.exists():
            self.index_path.unlink()  # a stale graph from when the bank was large

    def _save_index(self) -> None:
        """Keep a changed HNSW graph on disk (it takes minutes to build; a flat index is rebuilt)."""
        if self.index is not None and self.index.kind == "hnsw" and self.index.changed:
            self.index.save(self.index_path, self.model.fingerprint)

    def _sync(self, store_ids: np.ndarray | None = None) -> tuple[int, int]:
        if store_ids is None:
            store_ids = self.store.question_ids()
        added, removed = self.index.sync(store_ids, self._fetch_vectors)
        if self.index.needs_rebuild():
            self.index = VectorIndex(self.index.dim, self.index.kind)
            self.index.sync(store_ids, self._fetch_vectors)
        return added, removed

    def _fetch_vectors(self, ids: np.ndarray):
        return self.store.vectors(ids, self.model.dim)

    def refresh(self) -> None:
        """Catch up with writes made by other processes (one small read when there were none)."""
        generation = self.store.generation()
        if generation != self.generation:
            with self.lock:
                self.generation = self.store.generation()
                self.settings = self.store.settings()
                if self.index.kind != self.wanted_kind(self.store.count()[1]):
                    self._build_index()
                else:
                    self._sync()

    # -- writing ------------------------------------------------------------------------------

    def _commit(self, write: Callable) -> object:
        """Run `write(conn) -> (result, added_ids, added_vectors, removed_ids)` in one transaction,
        then apply it to the index, all under the lock."""
        with self.lock:
            with self.store.write() as conn:
                before = self.store.setting("generation", conn)
                result, added_ids, added_vectors, removed_ids = write(conn)
            self.settings = self.store.settings()
            if self.index is not None:
                self.index.remove(removed_ids)
                self.index.add(np.asarray(added_ids, dtype=np.int64), added_vectors)
                if before != self.generation:  # another process wrote too: look at everything
                    self._sync()
                elif self.index.needs_rebuild():
                    self._build_index()
            self.generation = self.store.generation()
            return result

    def _matrix(self, vector_of: dict[str, np.ndarray], texts: Sequence[str]) -> np.ndarray:
        return np.array([vector_of[t] for t in texts], dtype=np.float32).reshape(len(texts), self.model.dim)

    def add(self, question: str, answer: str, paraphrases: Sequence[str] = (), tags: Sequence[str] = (),
            group: str | None = None) -> Entry:
        questions = unique([clean(question, "question")] + [clean(p, "paraphrase") for p in paraphrases])
        answer = clean(answer, "answer")
        tags = [clean(t, "tag") for t in tags]
        vectors = self.need_model().encode(questions)

        def write(conn):
            if group is not None and self.store.entry_by_group(group, conn):
                raise SamesenseError(f"group {group!r} already exists")
            entry_id = Store.insert_entry(conn, answer, tags, group)
            ids = Store.insert_questions(conn, entry_id, questions, vectors)
            return entry_id, ids, vectors, []

        return self.get(self._commit(write))

    def update(self, entry_id: int, question: str | None = None, answer: str | None = None,
               paraphrases: Sequence[str] | None = None, tags: Sequence[str] | None = None) -> Entry:
        """Change what is given; questions keep their vectors unless their text changes."""
        current = self.get(entry_id)
        if current is None:
            raise NoSuchEntry(entry_id)
        question = clean(question, "question") if question is not None else current.question
        paraphrases = [clean(p, "paraphrase") for p in paraphrases] if paraphrases is not None else current.paraphrases
        texts = unique([question, *paraphrases])
        answer = clean(answer, "answer") if answer is not None else None
        tags = [clean(t, "tag") for t in tags] if tags is not None else None
        model = self.need_model()
        new_texts = [t for t in texts if t not in set(current.questions)]
        encoded = dict(zip(new_texts, model.encode(new_texts))) if new_texts else {}

        def write(conn):
            rows = Store.question_rows(conn, entry_id)
            if not rows:
                raise NoSuchEntry(entry_id)
            by_text = {text: qid for qid, _, text in rows}
            fresh = [t for t in texts if t not in by_text]
            late = [t for t in fresh if t not in encoded]  # another writer changed the entry meanwhile
            if late:
                encoded.update(zip(late, model.encode(late)))
            vectors = self._matrix(encoded, fresh)
            removed = [qid for qid, _, text in rows if text not in texts]
            Store.delete_questions(conn, removed)
            added = Store.insert_questions(conn, entry_id, fresh, vectors, first_position=len(rows) + len(texts))
            by_text.update(zip(fresh, added))
            Store.set_positions(conn, {by_text[t]: position for position, t in enumerate(texts)})
            Store.update_entry_fields(conn, entry_id, answer, tags)
            return entry_id, added, vectors, removed

        return self.get(self._commit(write))

    def delete(self, entry_id: int) -> bool:
        def write(conn):
            removed = Store.delete_entry(conn, int(entry_id))
            return bool(removed), [], np.zeros((0, self.index.dim if self.index else 0)), removed

        return self._commit(write)

    def import_rows(self, rows: Sequence[FaqRow], report: ImportReport | None = None) -> ImportReport:
        """Add rows as entries, or to the entries already holding their group or question (see
        planner.py). All or nothing: one transaction."""
        report = report or ImportReport()
        started = time.perf_counter()
        entries = merge_rows(rows)
        report.rows += len(rows)
        texts = unique(q for entry in entries for q in entry.questions)
        vector_of = dict(zip(texts, self.need_model().encode(texts, show_progress=self.show_progress)))

        def write(conn):
            plans = plan_import(entries, self.store, conn)
            added_ids, added_texts = apply_plan(plans, conn, vector_of, report, self.show_progress)
            return report, added_ids, self._matrix(vector_of, added_texts), []

        self._commit(write)
        with self.lock:
            if self.index is not None and self.index.kind != self.wanted_kind(len(self.index)):
                self._build_index()
            self._save_index()
        report.seconds = time.perf_counter() - started
        return report

    def set_settings(self, **values) -> None:
        with self.lock:
            self.store.put_settings(**values)
            self.settings = self.store.settings()

    # -- reading ------------------------------------------------------------------------------

    def get(self, entry_id: int) -> Entry | None:
        return self.store.entry(entry_id)

    def list_entries(self, offset: int = 0, limit: int | None = None, contains: str | None = None) -> list[Entry]:
        """Entries by id; `contains`: only those whose question, paraphrase or answer holds it."""
        return self.store.list_entries(offset, limit, contains)

    def count(self) -> tuple[int, int]:
        """(entries, question vectors)."""
        return self.store.count()

    def search(self, questions: Sequence[str], k: int = 5) -> list[list[Candidate]]:
        """For each question, up to k candidate entries, best first (each scored by its best
        matching stored question)."""
        model = self.need_model()
        vectors = model.encode(list(questions))
        self.refresh()
        out: list[list[Candidate] | None] = [None] * len(questions)
        todo = np.arange(len(questions))
        fetch = 4 * k + 16
        while len(todo):
            with self.lock:
                total = len(self.index)
                scores, ids = self.index.search(vectors[todo], min(fetch, total))
            lookup = self.store.entries_of_questions(np.unique(ids[ids >= 0]))
            unfinished = []
            for row, query in enumerate(todo):
                best: dict[int, Candidate] = {}
                for score, qid in zip(scores[row], ids[row]):
                    if qid >= 0 and qid in lookup and lookup[qid][0] not in best:
                        entry_id, text, answer = lookup[qid]
                        best[entry_id] = Candidate(entry_id, text, answer, round(float(score), 6))
                out[query] = list(best.values())[:k]
                # many paraphrases of a few entries can fill the hits: look further if needed
                if len(best) < k and fetch < total:
                    unfinished.append(query)
            todo, fetch = np.array(unfinished, dtype=np.int64), fetch * 4
        return out

    def ask(self, question: str, k: int = 5) -> Answer:
        question = clean(question, "question")
        candidates = self.search([question], max(k, 2))[0]  # two at least: "too close" needs them
        answer = decide(question, candidates, float(self.settings["threshold"]), float(self.settings["margin"]))
        answer.candidates = candidates[:k]
        return answer

    def info(self) -> dict:
        entries, questions = self.count()
        s = self.settings
        return {"bank": str(self.path), "entries": entries, "questions": questions,
                "index": self.index_kind, "model_fingerprint": s.get("model_fingerprint"),
                "model_path": s.get("model_path"), "threshold": s["threshold"], "margin": s["margin"],
                "calibration": s.get("calibration")}
