"""FaqBank: the store, a model and the vector index kept in step.

    bank = FaqBank.open("support.faq", model="runs/mine/model")
    bank.add("how do i reset my pin", "Settings > Security > Reset PIN.", paraphrases=["forgot my pin"])
    bank.ask("i can't remember my pin")     # Answer(answered=True, answer="Settings > ...", ...)

Every write goes to SQLite first (one transaction) and then to the index, under one lock, so a
reader in this process never sees the index ahead of the store. A bank opened in another process
is noticed by the store's generation counter: before each search the index is synced with the store
if the counter moved. Every text is checked by text.py's rules (and the bank's limits) first.

A bank never mixes models (a model is named by its fingerprint, not by its path). The bank records
the fingerprint (and dim) of the model its vectors were made by, and
  - a writable open with another model encodes every question again and makes the bank that
    model's (one transaction; questions another process adds meanwhile are encoded inside it);
  - every write that stores vectors checks, inside its transaction, that this process's model is
    still the bank's, and refuses if another process has moved the bank to another model since;
  - a read-only open never writes: with another model it encodes the stored questions in memory,
    for its own index alone;
  - the index takes a stored vector only when the bank's model (read in the same snapshot as the
    vector) is this process's; otherwise it encodes the question itself. So a process whose model
    is no longer the bank's goes on answering, with its own model, and sees new questions too.

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
from .choices import ANSWER_BOUNDS, TextLimits
from .index import VectorIndex, kind_for
from .matcher import Answer, Candidate, decide, unreadable_answer, unreadable_reason
from .model_choice import choose_model
from .planner import FaqRow, ImportReport, apply_plan, merge_rows, plan_import
from . import store_writes
from .store import Entry, Store
from .text import SURROGATES, clean, clean_group, clean_list, unique

__all__ = ["FaqBank", "FaqRow", "ImportReport", "NoSuchEntry"]


class NoSuchEntry(SamesenseError):
    def __init__(self, entry_id: int):
        super().__init__(f"no entry {entry_id}")


# settings measured with a model: another model's vectors make them meaningless
MODEL_SETTINGS = {"threshold", "calibration", "hybrid"}
EXAMPLES = 3  # unreadable questions an import's warning quotes


class FaqBank:
    def __init__(self, store: Store, model: TextEncoder | None = None, show_progress: bool | None = False,
                 limits: TextLimits | None = None):
        self.store = store
        self.model = model
        self.show_progress = show_progress
        self.limits = limits or TextLimits()
        self.lock = threading.RLock()
        self.index: VectorIndex | None = None
        self.lexical = None  # the stored questions' BM25 index (lexical.py), built when first asked with hybrid > 0
        self.generation = -1
        self.settings = store.settings()
        if model is not None:
            self._attach(model)

    @classmethod
    def open(cls, path: str | os.PathLike, model: TextEncoder | str | os.PathLike | None = None,
             create: bool = True, show_progress: bool | None = False, read_only: bool = False,
             limits: TextLimits | None = None) -> "FaqBank":
        """Open (or create) a bank. `model`: a loaded encoder, a spec naming one (a model or run
        folder, a sentence-transformers folder, or a baseline: minilm, e5-small; see
        samesense.encoder_spec), or None for the one the bank remembers (if its folder is still there).

        `read_only`: for a process that only reads (a read-only server, `ask`, a calibration dry
        run): the bank must exist, and nothing is written to it or to its index file, ever; every
        write is refused. With a model other than the one the bank's vectors were made by, the
        stored questions are encoded with it in memory, for this process alone, and the bank is
        left as it is: a read-only server can try another model on a bank that a writable server
        goes on serving. Writable (the default), another model re-encodes the bank for good.

        `limits`: the longest texts (and lists) this process stores (default: choices.TextLimits).
        """
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
        path = Path(path)
        try:
            with cls.open_without_model(path) as bank:
                if bank.count() != (0, 0):
                    return False
        except SamesenseError:
            return False  # not a bank (or none): not ours to delete
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

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def read_only(self) -> bool:
        return self.store.read_only

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
            raise SamesenseError(f"{self.path}: the bank has no model yet; name one with --model (a model folder, minilm or e5-small)")
        return self.model

    # -- model and index ----------------------------------------------------------------------

    def _attach(self, model: TextEncoder) -> None:
        if self._stored_model() not in ((None, None), (model.fingerprint, model.dim)) and not self.read_only:
            self.reencode(model)
        self.model = model
        with self.lock:
            self._build_index()

    def _stored_model(self, conn=None) -> tuple[str | None, int | None]:
        """(fingerprint, dim) of the model the stored vectors were made by; (None, None) before any."""
        return self.store.setting("model_fingerprint", conn), self.store.setting("dim", conn)

    def _is_bank_model(self, model: TextEncoder, conn=None) -> bool:
        return self._stored_model(conn) == (model.fingerprint, model.dim)

    def reencode(self, model: TextEncoder) -> None:
        """Encode every stored question with `model` and make the bank that model's (a new model
        means new vectors). Encoded first, written in one transaction that also encodes the
        questions added meanwhile, so no old vector is left under the new fingerprint."""
        vector_of = self._encode(model, unique(self.store.question_texts()[1]))
        with self.lock, self.store.write() as conn:
            ids, texts = self.store.question_texts(conn)
            vector_of.update(self._encode(model, unique(t for t in texts if t not in vector_of)))
            store_writes.replace_vectors(conn, ids, matrix(vector_of, texts, model.dim))
            Store.put_setting(conn, "model_fingerprint", model.fingerprint)
            Store.put_setting(conn, "dim", model.dim)

    def _encode(self, model: TextEncoder, texts: list[str]) -> dict[str, np.ndarray]:
        return dict(zip(texts, model.encode(texts, show_progress=self.show_progress))) if texts else {}

    def _claim_model(self, conn) -> None:
        """Inside a write that stores vectors: this process's model must be the bank's (a bank with
        no vectors yet becomes its), else the write is refused: another process moved the bank to
        another model after this one opened it."""
        model = self.need_model()
        fingerprint, dim = self._stored_model(conn)
        if fingerprint is None:
            Store.put_setting(conn, "model_fingerprint", model.fingerprint)
            Store.put_setting(conn, "dim", model.dim)
        elif (fingerprint, dim) != (model.fingerprint, model.dim):
            raise SamesenseError(f"{self.path}: the bank's vectors were made by model {fingerprint} ({dim}-d); "
                                 f"this process holds model {model.fingerprint} ({model.dim}-d): reopen the "
                                 f"bank to write to it (opened writable with --model MODEL, it is re-encoded "
                                 f"for that model)")

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
        if kind == "flat" and self.index_path.exists() and not self.read_only:
            self.index_path.unlink()  # a stale graph from when the bank was large

    def _save_index(self) -> None:
        """Keep a changed HNSW graph on disk (it takes minutes to build; a flat index is rebuilt);
        never from a read-only bank, nor from a process whose model is not the bank's (its graph
        would replace the bank's own)."""
        if (self.index is not None and self.index.kind == "hnsw" and self.index.changed and not self.read_only
                and self._is_bank_model(self.model)):
            self.index.save(self.index_path, self.model.fingerprint)

    def _sync(self, store_ids: np.ndarray | None = None) -> tuple[int, int]:
        if store_ids is None:
            store_ids = self.store.question_ids()
        added, removed = self.index.sync(store_ids, self._fetch_vectors)
        if self.index.needs_rebuild():
            self.index = VectorIndex(self.index.dim, self.index.kind)
            self.index.sync(store_ids, self._fetch_vectors)
        return added, removed

    def _fetch_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of these questions for the index: the stored vectors when the bank's model
        is this process's, else the stored questions encoded with this process's model, in memory
        only. The model and the vectors are read in one snapshot, so a re-encoding committed by
        another process in between cannot slip the other model's vectors in."""
        with self.store.snapshot():
            if self._is_bank_model(self.model):
                return self.store.vectors(ids, self.model.dim)
            ids, texts = self.store.question_texts(ids=ids)
        if not texts:
            return ids, np.zeros((0, self.model.dim), dtype=np.float32)
        return ids, self.model.encode(texts, show_progress=self.show_progress)

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

    def _commit(self, write: Callable, stores_vectors: bool = True) -> object:
        """Run `write(conn) -> (result, added_ids, added_vectors, removed_ids)` in one transaction,
        then apply it to the index, all under the lock. `stores_vectors`: the write adds vectors
        made by this process's model, which must then be the bank's (checked in the transaction)."""
        with self.lock:
            with self.store.write() as conn:
                before = self.store.setting("generation", conn)
                if stores_vectors:
                    self._claim_model(conn)
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
        """A new entry; or, when an entry already holds one of these questions (or this group) with
        the same answer and group, that same entry, which gains the questions and tags it lacks (as
        an import merges), so adding twice makes one entry. A question or group held by an entry
        with another answer or group is refused: change that entry instead (update)."""
        limits = self.limits
        questions = unique([clean(question, "question", limits), *clean_list(paraphrases, "paraphrases", limits)])
        answer, group = clean(answer, "answer", limits), clean_group(group, limits)
        tags = clean_list(tags, "tags", limits)
        vector_of = dict(zip(questions, self.need_model().encode(questions)))

        def write(conn):
            same = self._same_entry(conn, questions, answer, group)
            if same is None:
                entry_id, new = store_writes.insert_entry(conn, answer, tags, group), questions
            else:
                entry_id, new = same.id, [q for q in questions if q not in set(same.questions)]
                if not new and set(tags) <= set(same.tags):
                    return entry_id, [], matrix(vector_of, [], self.model.dim), []  # a repeat: nothing to write
                store_writes.update_entry_fields(conn, entry_id, tags=unique(same.tags + tags))
            vectors = matrix(vector_of, new, self.model.dim)
            first = len(same.questions) if same is not None else 0
            return entry_id, store_writes.insert_questions(conn, entry_id, new, vectors, first), vectors, []

        return self.get(self._commit(write))

    def _same_entry(self, conn, questions: list[str], answer: str, group: str | None) -> Entry | None:
        """The stored entry that `add` of these questions is a repeat of (same answer, same group),
        None when there is none; a SamesenseError when an entry with another answer or group holds
        one of the questions or the group."""
        holders = self.store.entry_ids_holding(questions, conn)
        by_group = self.store.entry_by_group(group, conn) if group is not None else None
        if by_group is not None and by_group.answer != answer:
            raise SamesenseError(f"group {group!r} already exists (entry {by_group.id}, with another answer): "
                                 "change that entry instead")
        entries = self.store.entries_by_id(list(holders.values()), conn)
        same = by_group or next((e for e in entries.values() if (e.answer, e.group) == (answer, group)), None)
        for text, entry_id in holders.items():
            if same is None or entry_id != same.id:
                raise SamesenseError(f"question {text!r} already in entry {entry_id}: change that entry instead")
        return same

    def update(self, entry_id: int, question: str | None = None, answer: str | None = None,
               paraphrases: Sequence[str] | None = None, tags: Sequence[str] | None = None) -> Entry:
        """Change what is given; questions keep their vectors unless their text changes."""
        current = self.get(entry_id)
        if current is None:
            raise NoSuchEntry(entry_id)
        limits = self.limits
        question = clean(question, "question", limits) if question is not None else current.question
        paraphrases = clean_list(paraphrases, "paraphrases", limits) if paraphrases is not None else current.paraphrases
        texts = unique([question, *paraphrases])
        answer = clean(answer, "answer", limits) if answer is not None else None
        tags = clean_list(tags, "tags", limits) if tags is not None else None
        model = self.need_model()
        new_texts = [t for t in texts if t not in set(current.questions)]
        encoded = dict(zip(new_texts, model.encode(new_texts))) if new_texts else {}

        def write(conn):
            rows = store_writes.question_rows(conn, entry_id)
            if not rows:
                raise NoSuchEntry(entry_id)
            by_text = {text: qid for qid, _, text in rows}
            fresh = [t for t in texts if t not in by_text]
            late = [t for t in fresh if t not in encoded]  # another writer changed the entry meanwhile
            if late:
                encoded.update(zip(late, model.encode(late)))
            vectors = matrix(encoded, fresh, model.dim)
            removed = [qid for qid, _, text in rows if text not in texts]
            store_writes.delete_questions(conn, removed)
            added = store_writes.insert_questions(conn, entry_id, fresh, vectors, first_position=len(rows) + len(texts))
            by_text.update(zip(fresh, added))
            store_writes.set_positions(conn, {by_text[t]: position for position, t in enumerate(texts)})
            store_writes.update_entry_fields(conn, entry_id, answer, tags)
            return entry_id, added, vectors, removed

        return self.get(self._commit(write))

    def delete(self, entry_id: int) -> bool:
        """Whether there was such an entry to delete (any process may delete: no vector is stored)."""
        def write(conn):
            removed = store_writes.delete_entry(conn, int(entry_id))
            return bool(removed), [], np.zeros((0, self.index.dim if self.index else 0)), removed

        return self._commit(write, stores_vectors=False)

    def import_rows(self, rows: Sequence[FaqRow], report: ImportReport | None = None) -> ImportReport:
        """Add rows as entries, or to the entries already holding their group or question (see
        planner.py). All or nothing: one transaction."""
        report = report or ImportReport()
        started = time.perf_counter()
        entries = merge_rows([row.cleaned(self.limits) for row in rows])
        report.rows += len(rows)
        texts = unique(q for entry in entries for q in entry.questions)
        model = self.need_model()
        self._check_coverage(model, texts, report)
        vector_of = self._encode(model, texts)

        def write(conn):
            plans = plan_import(entries, self.store, conn)
            added_ids, added_texts = apply_plan(plans, conn, vector_of, report, self.show_progress)
            return report, added_ids, matrix(vector_of, added_texts, model.dim), []

        self._commit(write)
        with self.lock:
            if self.index is not None and self.index.kind != self.wanted_kind(len(self.index)):
                self._build_index()
            self._save_index()
        report.seconds = time.perf_counter() - started
        return report

    def _check_coverage(self, model: TextEncoder, texts: list[str], report: ImportReport) -> None:
        """How much of the FAQ's own questions the model can read, into `report`: the mean share of
        unknown tokens, and a warning naming a few of the questions `ask` would refuse to read (a
        model trained on other text: another language, another field's words)."""
        shares = model.unknown_fraction(texts)
        limit = float(self.settings["max_unknown"])
        poor = [text for text, share in zip(texts, shares) if unreadable_reason(share, limit)]
        read = report.questions_read + len(texts)  # a report may gather several calls
        report.unknown_share = (report.unknown_share * report.questions_read + sum(shares)) / max(read, 1)
        report.questions_read, report.unreadable_questions = read, report.unreadable_questions + len(poor)
        if poor:
            examples = ", ".join(repr(text if len(text) <= 60 else text[:57] + "...") for text in poor[:EXAMPLES])
            report.warnings.append(
                f"the model cannot read {len(poor)} of the {len(texts)} questions ({len(poor) / len(texts):.0%}; "
                f"more than {limit:.0%} of their tokens unknown, {sum(shares) / len(texts):.0%} of all tokens), "
                f"e.g. {examples}: asked as they are, they go unanswered; use a model trained on such text")

    def set_settings(self, **values) -> None:
        """Several settings in one write; a threshold or calibration measured with this process's
        model is refused when that model is no longer the bank's. The answer settings (threshold,
        margin, max_unknown) must be numbers within choices.ANSWER_BOUNDS."""
        for key in ANSWER_BOUNDS.keys() & values.keys():
            check_answer_setting(key, values[key])
        with self.lock:
            with self.store.write() as conn:
                if self.model is not None and MODEL_SETTINGS & values.keys():
                    self._claim_model(conn)
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

    def count(self) -> tuple[int, int]:
        """(entries, question vectors)."""
        return self.store.count()

    def search(self, questions: Sequence[str], k: int = 5, hybrid: float | None = None) -> list[list[Candidate]]:
        """For each question, up to k candidate entries, best first (each scored by its best
        matching stored question). `hybrid`: the weight of BM25 in the score (default: the bank's
        `hybrid` setting; 0, the cosine alone)."""
        model = self.need_model()
        questions = list(questions)
        vectors = model.encode(questions)
        self.refresh()
        weight = float(self.settings["hybrid"] if hybrid is None else hybrid)
        out: list[list[Candidate] | None] = [None] * len(questions)
        todo = np.arange(len(questions))
        fetch = 4 * k + 16
        while len(todo):
            with self.lock:
                total = len(self.index)
                scores, ids = self.index.search(vectors[todo], min(fetch, total))
                if weight > 0 and total:
                    scores, ids = self._lexical_index().fused([questions[i] for i in todo], vectors[todo], scores, ids,
                                                              weight, fetch, self._fetch_vectors)
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

    def _lexical_index(self):
        """The BM25 index of the stored questions, rebuilt when the store has changed since it was
        built (its generation), so that it never answers from questions the store no longer holds."""
        from .lexical import LexicalIndex

        generation = self.store.generation()
        if self.lexical is None or self.lexical.generation != generation:
            with self.store.snapshot() as conn:  # the texts of the generation it is labelled with
                generation = int(self.store.setting("generation", conn))
                ids, texts = self.store.question_texts(conn)
            self.lexical = LexicalIndex(ids, texts, generation)
        return self.lexical

    def ask(self, question: str, k: int = 5) -> Answer:
        """The answer, or none with the reason (matcher.py). A question the model cannot read is
        refused before the search: the nearest questions to a vector of unknown tokens are noise."""
        question = clean(question, "question", self.limits)
        reason = self.unreadable([question])[0]
        if reason is not None:
            return unreadable_answer(question, reason, float(self.settings["threshold"]))
        candidates = self.search([question], max(k, 2))[0]  # two at least: "too close" needs them
        answer = decide(question, candidates, float(self.settings["threshold"]), float(self.settings["margin"]))
        answer.candidates = candidates[:k]
        return answer

    def unreadable(self, questions: Sequence[str]) -> list[str | None]:
        """For each question, why the model cannot read it (its share of unknown tokens above the
        bank's max_unknown, or all unknown), or None when it can."""
        model = self.need_model()
        self.refresh()  # the limit another process may have set
        limit = float(self.settings["max_unknown"])
        return [unreadable_reason(share, limit) for share in model.unknown_fraction(list(questions))]

    def info(self) -> dict:
        """Counts, model, index and answer settings. `index`: the kind in use, or, opened without a
        model (faq info), the kind the bank's next open would build."""
        entries, questions = self.count()
        s = self.settings
        index = self.index_kind or f"{self.wanted_kind(questions)} (not built: opened without a model)"
        return {"bank": str(self.path), "entries": entries, "questions": questions,
                "index": index, "model_fingerprint": s.get("model_fingerprint"),
                "model_in_use": self.model.fingerprint if self.model is not None else None,
                "read_only": self.read_only,
                "model_path": s.get("model_path"), "threshold": s["threshold"], "margin": s["margin"],
                "max_unknown": s["max_unknown"], "hybrid": s["hybrid"], "calibration": s.get("calibration")}


def check_answer_setting(key: str, value) -> None:
    """A SamesenseError unless `value` is a finite number within ANSWER_BOUNDS[key]."""
    low, high = ANSWER_BOUNDS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise SamesenseError(f"{key} must be a number from {low:g} to {high:g}, got {value!r}")


def matrix(vector_of: dict[str, np.ndarray], texts: Sequence[str], dim: int) -> np.ndarray:
    """The vectors of `texts`, one row each, from `vector_of`."""
    return np.array([vector_of[t] for t in texts], dtype=np.float32).reshape(len(texts), dim)
