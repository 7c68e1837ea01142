"""Answering from a bank: a question's nearest stored questions, and the answer or abstention they
make (matcher.py). FaqBank.search, .ask and .unreadable are these.

The nearest questions come from the vector index (cosines), and, when the bank's `hybrid` weight is
above 0, from BM25 over the stored questions too (samesense.lexical.hybrid's fused score): the best
stored questions by cosine and the best by BM25, each scored (1 - w) * cosine + w * normalised BM25.
An entry is scored by its best matching stored question; when many paraphrases of a few entries fill
the hits, the search looks further (4 times as far each round) until it has k entries or no more.
With the bank's `answers` weight above 0, the entries found are scored again, (1 - a) * that score +
a * the cosine of the question and the entry's answer text, and sorted anew: an answer often holds the
words a customer uses that no stored question does. It reranks what the stored questions found (an
entry none of whose questions is near is not searched for by its answer). Answers are encoded when
first met and kept (AnswerVectors), never stored: a bank's vectors stay the questions'.

The BM25 index (LexicalIndex) is built from the store's question texts (ids and texts, nothing
else), so it holds nothing the store does not: it is rebuilt when the store's generation moves (an
add, edit, delete or import, from this process or another), at the next question, and a reopened
bank builds it anew. A bank of 10,000 questions indexes in a fraction of a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..lexical.bm25 import BM25Index, BM25Ranker
from ..lexical.hybrid import fuse
from .matcher import Answer, Candidate, decide, suggest_choices, unreadable_answer, unreadable_reason
from .text import clean

if TYPE_CHECKING:
    from .bank import FaqBank


class BankSearch:
    """The search and answers of one bank, through its lock, index and store (and its BM25 index of
    the stored questions, built when first asked with a hybrid weight above 0)."""

    def __init__(self, bank: FaqBank):
        self.bank = bank
        self.lexical: LexicalIndex | None = None
        self.answer_vectors: AnswerVectors | None = None

    def search(self, questions: Sequence[str], k: int = 5, hybrid: float | None = None,
               answers: float | None = None, vectors: np.ndarray | None = None) -> list[list[Candidate]]:
        """For each question, up to k candidate entries, best first (each scored by its best
        matching stored question). `hybrid`: the weight of BM25 in the score, `answers` that of the
        answer text (defaults: the bank's settings; 0, the stored questions' cosines alone). `vectors`:
        the questions' vectors by the bank's model, when the caller has them (calibrate asks the same
        questions at many weights)."""
        bank = self.bank
        questions = list(questions)
        model = bank.need_model()
        vectors = model.encode(questions) if vectors is None else vectors
        bank.refresh()
        weight = bank.policy.hybrid if hybrid is None else float(hybrid)
        answer_weight = bank.policy.answers if answers is None else float(answers)
        out: list[list[Candidate] | None] = [None] * len(questions)
        todo = np.arange(len(questions))
        fetch = 4 * k + 16
        while len(todo):
            with bank.lock:
                total = len(bank.index)
                scores, ids = bank.index.search(vectors[todo], min(fetch, total))
                if weight > 0 and total:
                    scores, ids = self.lexical_index().fused([questions[i] for i in todo], vectors[todo], scores,
                                                             ids, weight, fetch, bank.keeper.fetch_vectors)
            lookup = bank.store.entries_of_questions(np.unique(ids[ids >= 0]))
            if answer_weight > 0:
                answer_of = self.answers_of(model).vectors(sorted({answer for _, _, answer in lookup.values()}))
            unfinished = []
            for row, query in enumerate(todo):
                best: dict[int, Candidate] = {}
                for score, qid in zip(scores[row], ids[row]):
                    if qid >= 0 and qid in lookup and lookup[qid][0] not in best:
                        entry_id, text, answer = lookup[qid]
                        best[entry_id] = Candidate(entry_id, text, answer, round(float(score), 6))
                if answer_weight > 0:
                    best = with_answers(best, vectors[query], answer_of, answer_weight)
                out[query] = list(best.values())[:k]
                # many paraphrases of a few entries can fill the hits: look further if needed
                if len(best) < k and fetch < total:
                    unfinished.append(query)
            todo, fetch = np.array(unfinished, dtype=np.int64), fetch * 4
        return out

    def answers_of(self, model) -> AnswerVectors:
        """The answer vectors of the bank's model (a new model, a new cache)."""
        if self.answer_vectors is None or self.answer_vectors.model is not model:
            self.answer_vectors = AnswerVectors(model)
        return self.answer_vectors

    def lexical_index(self) -> LexicalIndex:
        """The BM25 index of the stored questions, rebuilt when the store has changed since it was
        built (its generation), so that it never answers from questions the store no longer holds."""
        store = self.bank.store
        if self.lexical is None or self.lexical.generation != store.generation():
            with store.snapshot() as conn:  # the texts of the generation it is labelled with
                generation = int(store.setting("generation", conn))
                ids, texts = store.question_texts(conn)
            self.lexical = LexicalIndex(ids, texts, generation)
        return self.lexical

    def ask(self, question: str, k: int = 5) -> Answer:
        """The answer, or none with the reason (matcher.py). A question the model cannot read is
        refused before the search: the nearest questions to a vector of unknown tokens are noise."""
        question = clean(question, "question", self.bank.limits)
        reason = self.unreadable([question])[0]
        if reason is not None:
            return unreadable_answer(question, reason, self.bank.policy.threshold)
        candidates = self.search([question], max(k, 2))[0]  # two at least: "too close" needs them
        policy = self.bank.policy  # as the search's refresh left it
        answer = suggest_choices(decide(question, candidates, policy.threshold, policy.margin), policy.suggest)
        answer.candidates = candidates[:k]
        return answer

    def unreadable(self, questions: Sequence[str]) -> list[str | None]:
        """For each question, why the model cannot read it (its share of unknown tokens above the
        bank's max_unknown, or all unknown), or None when it can."""
        model = self.bank.need_model()
        self.bank.refresh()  # the limit another process may have set
        limit = self.bank.policy.max_unknown
        return [unreadable_reason(share, limit) for share in model.unknown_fraction(list(questions))]


def with_answers(best: dict[int, Candidate], vector: np.ndarray, answer_of: dict[str, np.ndarray],
                 weight: float) -> dict[int, Candidate]:
    """The candidates scored (1 - weight) * score + weight * cosine(question, answer), best first."""
    for c in best.values():
        c.score = round((1.0 - weight) * c.score + weight * float(answer_of[c.answer] @ vector), 6)
    return {c.entry_id: c for c in sorted(best.values(), key=lambda c: -c.score)}


class AnswerVectors:
    """One model's vectors of answer texts, encoded when first asked for and kept (at most MOST texts:
    past that the cache starts again, so a bank whose answers keep changing cannot grow it forever)."""

    MOST = 100_000

    def __init__(self, model):
        self.model = model
        self.kept: dict[str, np.ndarray] = {}

    def vectors(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        kept = self.kept  # one dict through the call: another thread may start the cache again meanwhile
        missing = [t for t in texts if t not in kept]
        if len(kept) + len(missing) > self.MOST:
            kept, missing = {}, list(texts)
        if missing:
            kept.update(zip(missing, self.model.encode(missing)))
        self.kept = kept
        return {t: kept[t] for t in texts}


class LexicalIndex:
    """BM25 over a bank's stored questions, as of one generation of the store."""

    def __init__(self, ids: np.ndarray, texts: Sequence[str], generation: int):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.generation = generation
        self.bm25 = BM25Ranker()
        self.chinese = self.bm25.is_chinese(list(texts))  # word cutting decided once, for every question asked
        self.index = BM25Index(self.bm25.tokenize(list(texts), self.chinese)) if len(texts) else None
        self.position = {int(qid): row for row, qid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, questions: Sequence[str]) -> np.ndarray:
        """(questions x stored questions) normalised BM25: each over the question's own BM25 score."""
        if self.index is None:
            return np.zeros((len(questions), 0), np.float32)
        return self.index.normalised_scores(self.bm25.tokenize(list(questions), self.chinese))

    def best(self, row_scores: np.ndarray, k: int) -> np.ndarray:
        """The ids of the k best-scoring stored questions of one question's row (those scoring above 0)."""
        k = min(k, len(row_scores))
        top = np.argpartition(-row_scores, k - 1)[:k] if k else np.zeros(0, np.int64)
        return self.ids[top[row_scores[top] > 0]]

    def fused(self, questions: list[str], vectors: np.ndarray, dense_scores: np.ndarray, dense_ids: np.ndarray,
              weight: float, fetch: int, fetch_vectors: Callable) -> tuple[np.ndarray, np.ndarray]:
        """Hybrid scores of each question's candidates: the `fetch` best stored questions by cosine
        (`dense_scores`, `dense_ids`: the vector index's answer) and the `fetch` best by BM25, each
        scored (1 - w) * cosine + w * normalised BM25, best first; (scores, ids) as the vector index
        gives them (-1: no more). `fetch_vectors(ids) -> (ids, vectors)`: the stored vectors of
        questions found by their words alone, for their cosines."""
        lexical_scores = self.scores(questions)
        out_scores = np.full((len(questions), 2 * fetch), -np.inf, np.float32)
        out_ids = np.full((len(questions), 2 * fetch), -1, np.int64)
        for row in range(len(questions)):
            cosine = {int(q): float(c) for q, c in zip(dense_ids[row], dense_scores[row]) if q >= 0}
            missing = np.array([q for q in self.best(lexical_scores[row], fetch) if int(q) not in cosine], np.int64)
            if len(missing):
                found_ids, found = fetch_vectors(missing)
                cosine.update(zip(found_ids.tolist(), (found @ vectors[row]).tolist()))
            ids = np.fromiter(cosine, np.int64, len(cosine))
            dense = np.fromiter(cosine.values(), np.float32, len(cosine))
            words = np.array([lexical_scores[row, self.position[int(q)]] if int(q) in self.position else 0.0
                              for q in ids], np.float32)
            fused = fuse(dense, words, weight)
            order = np.argsort(-fused, kind="stable")
            out_scores[row, :len(order)], out_ids[row, :len(order)] = fused[order], ids[order]
        return out_scores, out_ids
