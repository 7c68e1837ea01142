"""FaqBank: the store, a model and the vector index kept in step.

    bank = FaqBank.open("support.faq", model="runs/mine/model")
    bank.add("how do i reset my pin", "Settings > Security > Reset PIN.", paraphrases=["forgot my pin"])
    bank.ask("i can't remember my pin")     # Answer(answered=True, answer="Settings > ...", ...)

Every write goes to SQLite first (one transaction) and then to the index, under one lock, so a
reader in this process never sees the index ahead of the store. A bank opened in another process
is noticed by the store's generation counter: before each search the index is synced with the store
if the counter moved. When the model's fingerprint differs from the one the vectors were made with,
every question is encoded again (a model is named by its fingerprint, not by its path).
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
from tqdm.auto import tqdm

from ..data import SamesenseError
from .index import VectorIndex
from .matcher import Answer, Candidate, decide
from .store import Entry, Store


SURROGATES = re.compile("[\ud800-\udfff]")


class Encoder(Protocol):
    """What a bank needs of a model (samesense.SentenceModel has it)."""

    dim: int
    fingerprint: str

    def encode(self, texts: Sequence[str], batch_size: int = 256, show_progress: bool | None = False) -> np.ndarray: ...


@dataclass
class FaqRow:
    """One record to import: a question and its answer, grouped with others by `group`."""

    question: str
    answer: str
    group: str | None = None
    paraphrases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    line: int | None = None  # where it came from, for messages


@dataclass
class ImportReport:
    rows: int = 0
    entries_added: int = 0
    entries_updated: int = 0
    questions_added: int = 0
    skipped: list[str] = field(default_factory=list)  # messages for malformed rows skipped
    seconds: float = 0.0


def clean(text, name: str) -> str:
    if not isinstance(text, str):
        raise SamesenseError(f"{name}: expected text, got {type(text).__name__}")
    if SURROGATES.search(text):  # what Python makes of bytes that are not UTF-8 (argv, surrogateescape)
        raise SamesenseError(f"{name}: not valid UTF-8")
    text = text.strip()
    if not text:
        raise SamesenseError(f"{name}: empty")
    return text


def unique(texts) -> list[str]:
    return list(dict.fromkeys(texts))


def progress(iterable, desc: str, unit: str, show: bool | None):
    """A tqdm bar; show None: only on a terminal."""
    return tqdm(iterable, desc=desc, unit=unit, leave=False, disable=None if show is None else not show)


class FaqBank:
    def __init__(self, store: Store, model: Encoder | None = None, show_progress: bool | None = False):
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
    def open(cls, path: str | os.PathLike, model: Encoder | str | os.PathLike | None = None,
             create: bool = True, show_progress: bool | None = False) -> "FaqBank":
        """Open (or create) a bank. `model`: a loaded model, a model folder, or None for the one the
        bank remembers (if its folder is still there)."""
        store = Store(path, create=create)
        if model is None:
            model = store.setting("model_path")
            if model is not None and not Path(model).exists():
                model = None
        if isinstance(model, (str, os.PathLike)):
            from ..model import load, resolve_model_dir

            model_dir = resolve_model_dir(model)
            model = load(model_dir)
            if store.setting("model_path") != str(model_dir.resolve()):
                with store.write() as conn:
                    Store.put_setting(conn, "model_path", str(model_dir.resolve()))
        return cls(store, model, show_progress)

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def index_path(self) -> Path:
        return self.store.path.with_name(self.store.path.name + ".hnsw")

    def close(self) -> None:
        with self.lock:
            if self.index is not None and self.index.kind == "hnsw" and self.index.changed:
                self.index.save(self.index_path, self.model.fingerprint)
            self.store.close()

    def __enter__(self) -> "FaqBank":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def need_model(self) -> Encoder:
        if self.model is None:
            raise SamesenseError(f"{self.path}: the bank has no model yet; name one with --model DIR")
        return self.model

    # -- model and index ----------------------------------------------------------------------

    def _attach(self, model: Encoder) -> None:
        settings = self.store.settings()
        if settings.get("model_fingerprint") not in (None, model.fingerprint) or settings.get("dim") not in (None, model.dim):
            self.reencode(model)
        elif settings.get("model_fingerprint") is None:
            with self.store.write() as conn:
                Store.put_setting(conn, "model_fingerprint", model.fingerprint)
                Store.put_setting(conn, "dim", model.dim)
        self.model = model
        with self.lock:
            self._build_index()

    def reencode(self, model: Encoder) -> None:
        """Encode every stored question with `model` (a new model means new vectors)."""
        ids, texts = self.store.question_texts()
        vectors = model.encode(texts, show_progress=self.show_progress) if texts else np.zeros((0, model.dim))
        with self.lock, self.store.write() as conn:
            Store.replace_vectors(conn, ids, vectors)
            Store.put_setting(conn, "model_fingerprint", model.fingerprint)
            Store.put_setting(conn, "dim", model.dim)

    def wanted_kind(self, questions: int) -> str:
        kind = self.settings["index"]
        if kind == "auto":
            return "hnsw" if questions > int(self.settings["hnsw_above"]) else "flat"
        return kind

    def _build_index(self) -> None:
        """Load or build the index and make it agree with the store (called with the lock held)."""
        self.generation = self.store.generation()  # first: a write after this is seen next time
        self.settings = self.store.settings()
        store_ids = self.store.question_ids()
        kind, dim, fingerprint = self.wanted_kind(len(store_ids)), self.model.dim, self.model.fingerprint
        index = VectorIndex.load(self.index_path, dim, kind, fingerprint) if kind == "hnsw" else None
        if index is None:
            index = VectorIndex(dim, kind)
        self.index = index
        self._sync(store_ids)
        if kind == "hnsw" and self.index.changed:
            self.index.save(self.index_path, fingerprint)  # repaired: don't repeat the work next time
        elif kind == "flat" and self.index_path.exists():
            self.index_path.unlink()  # a stale graph from when the bank was large

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

    def _commit(self, write) -> object:
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
            raise SamesenseError(f"no entry {entry_id}")
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
                raise SamesenseError(f"no entry {entry_id}")
            by_text = {text: qid for qid, _, text in rows}
            fresh = [t for t in texts if t not in by_text]
            late = [t for t in fresh if t not in encoded]  # another writer changed the entry meanwhile
            if late:
                encoded.update(zip(late, model.encode(late)))
            vectors = np.array([encoded[t] for t in fresh], dtype=np.float32).reshape(len(fresh), model.dim)
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
        """Add rows as entries: rows sharing a group are one entry (the first row's question is the
        entry's, the others' are paraphrases); a row without a group is an entry of its own. A group
        (or, without a group, a question) already in the bank gets the new questions and the file's
        answer. All or nothing: one transaction."""
        report = report or ImportReport()
        started = time.perf_counter()
        plans: dict[tuple[str, str], FaqRow] = {}
        for row in rows:
            key = ("group", row.group) if row.group is not None else ("question", row.question)
            plan = plans.get(key)
            if plan is None:
                plans[key] = FaqRow(row.question, row.answer, row.group, list(row.paraphrases), list(row.tags))
            else:
                plan.paraphrases += [row.question, *row.paraphrases]
                plan.tags = unique(plan.tags + row.tags)
        report.rows += len(rows)
        texts = unique(t for plan in plans.values() for t in [plan.question, *plan.paraphrases])
        vector_of = dict(zip(texts, self.need_model().encode(texts, show_progress=self.show_progress)))

        def write(conn):
            by_group = dict(conn.execute("SELECT grp, id FROM entries WHERE grp IS NOT NULL"))
            by_question = dict(conn.execute(
                "SELECT q.text, e.id FROM entries e JOIN questions q ON q.entry_id = e.id "
                "WHERE e.grp IS NULL AND q.position = 0"))
            added_ids, added_texts = [], []
            for (kind, key), plan in progress(plans.items(), "write", "entry", self.show_progress):
                existing_id = (by_group if kind == "group" else by_question).get(key)
                existing = self.store.entry(existing_id, conn) if existing_id is not None else None
                questions = unique([plan.question, *plan.paraphrases])
                if existing is None:
                    entry_id, old = Store.insert_entry(conn, plan.answer, plan.tags, plan.group), []
                    report.entries_added += 1
                else:
                    entry_id, old = existing.id, existing.questions
                    Store.update_entry_fields(conn, entry_id, plan.answer, unique(existing.tags + plan.tags))
                    report.entries_updated += 1
                new = [q for q in questions if q not in set(old)]
                added_ids += Store.insert_questions(conn, entry_id, new, [vector_of[q] for q in new],
                                                    first_position=len(old))
                added_texts += new
            report.questions_added += len(added_texts)
            vectors = np.array([vector_of[t] for t in added_texts], dtype=np.float32).reshape(len(added_texts), self.model.dim)
            return report, added_ids, vectors, []

        self._commit(write)
        with self.lock:
            if self.index is not None and self.index.kind != self.wanted_kind(len(self.index)):
                self._build_index()
            if self.index is not None and self.index.kind == "hnsw" and self.index.changed:
                self.index.save(self.index_path, self.model.fingerprint)
        report.seconds = time.perf_counter() - started
        return report

    def set_settings(self, **values) -> None:
        with self.lock, self.store.write() as conn:
            for key, value in values.items():
                Store.put_setting(conn, key, value)
        self.settings = self.store.settings()

    # -- reading ------------------------------------------------------------------------------

    def get(self, entry_id: int) -> Entry | None:
        return self.store.entry(entry_id)

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
        entries, questions = self.store.count()
        s = self.settings
        return {"bank": str(self.path), "entries": entries, "questions": questions,
                "index": self.index.kind if self.index else None, "model_fingerprint": s.get("model_fingerprint"),
                "model_path": s.get("model_path"), "threshold": s["threshold"], "margin": s["margin"],
                "calibration": s.get("calibration")}
