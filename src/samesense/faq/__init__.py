"""The FAQ matcher: keep question/answer pairs, answer a new question with the nearest stored one,
or say there is no confident answer.

    from samesense.faq import FaqBank
    bank = FaqBank.open("support.faq", model="runs/mine/model")
    bank.ask("how do i reset my pin")

One job a file:
  store.py         the bank's store: its schema, settings and reads; one transaction a write
  store_writes.py  the bank's writes to entries and questions, inside that transaction
  database.py      under the store: the database a bank's address names, and what differs between
                   SQLite (a file) and PostgreSQL (postgres.py), so the store's SQL is written once
  follower.py      a replica kept in step with its PostgreSQL bank (LISTEN/NOTIFY); is it ready
  migrate.py       a bank copied between SQLite and PostgreSQL, and verified (its SQL: store_copy.py)
  index.py         the FAISS vector index over the question vectors
  index_keeper.py  that index built from the store, kept agreeing with it, its HNSW graph on disk
  bank.py          store, model and index kept in step (and in step with other processes)
  planner.py       what a write does: an import (add or update each incoming entry, skip what is
                   stored, keep or replace a changed answer), an add, an edit
  entry_change.py  what a change to one entry asks for (PUT replaces, PATCH adds and removes paraphrases)
  model_choice.py  which encoder a bank opens with (given, named by a spec: encoder_spec.py, or
                   remembered), and whose vectors the bank holds (claimed, re-encoded)
  text.py          the rules every stored text obeys
  search.py        a question's nearest entries (FAISS, fused with BM25 by the hybrid weight, reranked
                   with the answer texts by the answer weight), and the answer they make
  policy.py        the answer settings, typed and checked: AnswerPolicy
  matcher.py       answer or abstain, given the nearest entries
  importer.py      reading and writing FAQ files
  outcomes.py      labelled questions asked of a bank: right, wrong, answerable, in scope
  calibrate.py     choosing the answer threshold and margin (and the hybrid and answer weights)
  evaluate_bank.py scoring a labelled test set at the stored settings (faq evaluate)
  learn.py         fine-tuning the bank's model on its entries, switching only when better (faq learn);
                   learn_base.py what is fine-tuned on what, learn_models.py the models kept, the switch
                   and the rollback
  choices.py       file formats, index kinds, the server's limits: names and numbers for --help
  serve.py         the HTTP service: its app and routes
  serve_loop.py    its routes for the support team's loop: the unanswered questions, PATCH /faq/{id}
  page.py          its web pages (customer, widget, support team) and who may embed them
  guard.py         what a request must pass: Host, body size, UTF-8, bearer token, text lengths, the
                   request deadline; the security headers every response carries
  schemas.py       the HTTP request and response bodies
  metrics.py       the service's Prometheus metrics
  logs.py          the service's logs (access, application, uvicorn's): one format, text or JSON
  unanswered.py    the unanswered-questions log, a file beside the bank: what to add to the FAQ next;
                   ask_and_record, the one way /ask and `ask --record` answer
  unanswered_store.py  that log's SQLite file (or its tables beside a PostgreSQL bank)
  log_fixes.py     fixing the bank from that log: assign a question to an entry, add it, dismiss it
  static/          the web page
The commands are in samesense/cli/: faq.py (samesense faq; edit, assign, dismiss in faq_edit.py;
evaluate, learn, rollback in faq_learn.py), ask.py (ask, calibrate), serve.py (serve).

Names are imported on first use (PEP 562), so importing the package (as `samesense.faq.choices`
does, for the commands' --help) loads neither numpy nor FAISS.
"""

from __future__ import annotations

from ..lazy import lazy_names

_LAZY = {"FaqBank": "bank", "NoSuchEntry": "bank", "Answer": "matcher", "Candidate": "matcher", "AnswerPolicy": "policy",
         "FaqRow": "planner", "ImportReport": "planner", "Entry": "store", "UnansweredLog": "unanswered"}

__all__ = sorted(_LAZY)


__getattr__ = lazy_names(__name__, _LAZY)
