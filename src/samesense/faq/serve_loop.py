"""The service's routes for the support team's loop (serve.py's app registers them): the unanswered
questions and what to do with each, and changing an entry a paraphrase at a time.

    GET    /unanswered            the logged questions, grouped; `status` open (default), assigned,
                                  added, dismissed or all                                    } token
    POST   /unanswered/assign     {"question", "entry_id"}: a paraphrase of that entry           } token,
    POST   /unanswered/add        an entry's fields: the question as an entry of its own         } writable
    POST   /unanswered/dismiss    {"question"}: needs no entry (writes the log alone)        } token
    PATCH  /faq/{id}              add_paraphrases / remove_paraphrases, and any other field      } token, writable

PUT /faq/{id} (serve.py) replaces what it is given, paraphrases as a whole list; PATCH adds and
removes single paraphrases and keeps the others (entry_change.py). The writes are log_fixes.py's.
"""

from typing import Annotated

from fastapi import HTTPException, Path, Query

from ..bounds import INT64_MAX
from .bank import FaqBank
from .guard import Limits
from .log_fixes import NotInLog, add_entry, assign, dismiss
from .schemas import (EntryOut, HandledOut, Order, OutcomeQuery, RequestBodies, StatusQuery, UnansweredList,
                      error_responses)
from .unanswered import UnansweredLog

EntryId = Annotated[int, Path(ge=1, le=INT64_MAX, description="the entry's id")]
SINCE_MAX = 2**53  # seconds since the epoch: far past any date, and exact as a float


def add_loop_routes(app, bank: FaqBank, unanswered: UnansweredLog | None, bodies: RequestBodies, limits: Limits,
                    writer: list, with_token: list) -> None:
    """The routes above on `app`: `writer` the dependencies of a route that writes the bank,
    `with_token` of one that needs the token alone (the log is written by a read-only server too)."""
    EntryIn, EntryPatch, LoggedQuestion, Assignment = (bodies.entry_in, bodies.entry_patch, bodies.logged_question,
                                                       bodies.assignment)

    @app.get("/unanswered", response_model=UnansweredList, dependencies=with_token,
             summary="questions given no answer, identical ones as one, most asked first (token)",
             responses=error_responses(401, 403, 422))
    def unanswered_questions(offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
                             limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                             since: Annotated[float | None, Query(ge=0, le=SINCE_MAX, allow_inf_nan=False,
                                                                  description="seconds since the epoch")] = None,
                             outcome: Annotated[OutcomeQuery, Query(description="narrow: answered, but nearly not; "
                                                                    "all: both")] = "abstained",
                             order: Annotated[Order, Query(description="count: most asked first; newest: "
                                                           "most recently asked first")] = "count",
                             status: Annotated[StatusQuery, Query(description="open: not handled yet; assigned, "
                                                                  "added, dismissed: handled so; all")] = "open"):
        if unanswered is None:
            return {"recording": False, "total": 0, "asks": 0, "questions": []}
        total, asks = unanswered.count(since, outcome, status)
        found = unanswered.questions(since, outcome, order, offset, limit, status)
        return {"recording": True, "total": total, "asks": asks, "questions": [q.to_dict() for q in found]}

    @app.post("/unanswered/assign", response_model=EntryOut, dependencies=writer,
              summary="make a logged question a paraphrase of an entry (token)",
              responses=error_responses(401, 403, 404, 409, 422))
    def assign_question(body: Assignment):
        entry, _ = assign(bank, unanswered, limits.text("question", body.question), body.entry_id)
        return entry.to_dict()

    @app.post("/unanswered/add", response_model=EntryOut, status_code=201, dependencies=writer,
              summary="make a logged question an entry of its own (token)",
              responses=error_responses(401, 403, 409, 422))
    def add_question(body: EntryIn):
        entry, _ = add_entry(bank, unanswered, **limits.fields(body))
        return entry.to_dict()

    @app.post("/unanswered/dismiss", response_model=HandledOut, dependencies=with_token,
              summary="take a logged question off the open list: it needs no entry (token)",
              responses=error_responses(401, 403, 404, 422))
    def dismiss_question(body: LoggedQuestion):
        if unanswered is None:
            raise HTTPException(404, "this server keeps no unanswered-questions log")
        question = limits.text("question", body.question)
        try:
            asks = dismiss(unanswered, question)
        except NotInLog as err:
            raise HTTPException(404, str(err)) from None
        return {"question": question, "status": "dismissed", "entry_id": None, "asks": asks}

    @app.patch("/faq/{entry_id}", response_model=EntryOut, dependencies=writer,
               summary="change an entry (token): add and remove single paraphrases, keep the others",
               responses=error_responses(401, 403, 404, 409, 422))
    def patch_entry(entry_id: EntryId, change: EntryPatch):
        # the bank checks each text by the server's limits (it was opened with them); a group left out
        # is kept, a null group taken away
        return bank.update(entry_id, **{field: getattr(change, field) for field in change.model_fields_set}).to_dict()
