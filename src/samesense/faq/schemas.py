"""The HTTP API's request and response bodies (they make /openapi.json), the error body and which
statuses each route documents, and the one-line message for a body that does not fit them.

The request bodies are built for the server's limits (`request_bodies`), so the lengths /openapi.json
declares are the ones the server enforces: the numbers live in choices.py's LimitValues alone."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from .choices import UNANSWERED_ORDERS, UNANSWERED_OUTCOMES, UNANSWERED_STATUSES, LimitValues
from . import text as text_rules



class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every refusal's body (the 400 for a Host not allowed excepted: Starlette's plain text)."""

    detail: str = Field(description="what is wrong, in one line")


ERRORS = {
    400: "malformed JSON, a bad Content-Length, a body that is not UTF-8, or a Host header not allowed",
    401: "a request that needs the server's bearer token, without it",
    403: "a write to a read-only server, or a request that needs the token to a server that has none",
    404: "no such entry",
    409: "a question (or group) another entry holds: one question, one entry; change that entry instead",
    413: "a request body over the server's size limit",
    422: "a field missing, of the wrong type, empty, too long or out of range, or an extra field",
    500: "a fault of the server, not of the request (the server's log has the details)",
    503: "the bank locked by another process's write past the write timeout, its database unreachable, a replica "
         "not ready (/healthz), or more requests at once than the server takes (--max-connections): try again "
         "after Retry-After seconds",
}
EVERY_ROUTE = (400, 413, 500, 503)  # the body guard and the last-resort handlers answer on every route


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI's `responses` for these statuses, each with the error body."""
    return {status: {"model": ErrorOut, "description": ERRORS[status]} for status in statuses}


# text.py's rules as a JSON Schema pattern (ECMA-262 and Python alike): no control character but tab,
# line feed and carriage return, and something besides white space. Declared, not checked by
# pydantic: text.py checks it, with its own messages (which character, where).
CONTROLS = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text_rules.CONTROLS.pattern[1:-1])
TEXT_PATTERN = f"^[^{CONTROLS}]*[^\\s{CONTROLS}][^{CONTROLS}]*$"


def bounded_text(longest: int, what: str):
    """A text field as the server takes it: a string of 1 to `longest` characters, by text.py's
    rules (TEXT_PATTERN: not blank, no control character; else a 422)."""
    return Annotated[StrictStr, Field(min_length=1, max_length=longest, description=what,
                                      json_schema_extra={"pattern": TEXT_PATTERN})]


class RequestBodies(NamedTuple):
    ask: type[BaseModel]
    entry_in: type[BaseModel]
    entry_change: type[BaseModel]
    entry_patch: type[BaseModel]
    logged_question: type[BaseModel]
    assignment: type[BaseModel]


def request_bodies(limits: LimitValues) -> RequestBodies:
    """The request bodies, their lengths from `limits`."""
    # type names apart from the field names: a class body would read a field's default as its type
    Question = bounded_text(limits.longest("question"), "a question; trimmed, not blank, one line")
    Paraphrase = bounded_text(limits.longest("paraphrase"), "another wording of the question; as a question")
    Answer = bounded_text(limits.longest("answer"), "the answer; trimmed, not blank")
    Tag = bounded_text(limits.longest("tag"), "a tag; as a question")
    Group = bounded_text(limits.longest("group"), "the entry's group name (unique); as a question")
    Paraphrases = Annotated[list[Paraphrase], Field(max_length=limits.most("paraphrases"))]
    Tags = Annotated[list[Tag], Field(max_length=limits.most("tags"))]

    class AskRequest(Strict):
        question: Question
        k: int = Field(5, ge=1, description=f"candidates to return (at most {limits.max_k}: more are cut to it)")

    class EntryIn(Strict):
        question: Question
        answer: Answer
        paraphrases: Paraphrases = []
        tags: Tags = []
        group: Group | None = None

    class EntryChange(Strict):
        """PUT: fields left out stay as they are; a field given replaces what the entry holds (so
        `paraphrases` is the whole new list: a paraphrase left out of it is removed). To add or
        remove single paraphrases and keep the others, PATCH."""

        question: Question | None = None
        answer: Answer | None = None
        paraphrases: Paraphrases | None = None
        tags: Tags | None = None

    class EntryPatch(Strict):
        """PATCH: fields left out stay as they are; paraphrases are added and removed one by one, the
        others kept (removing one the entry does not hold is a 422). `group`: null takes it away."""

        question: Question | None = None
        answer: Answer | None = None
        tags: Tags | None = None
        group: Group | None = None
        add_paraphrases: Paraphrases = []
        remove_paraphrases: Paraphrases = []

    class LoggedQuestion(Strict):
        """A question of the unanswered-questions log, as it is listed (or differing from it only in
        case, punctuation and spacing)."""

        question: Question

    class Assignment(LoggedQuestion):
        """A logged question to make a paraphrase of an entry."""

        # at most 2**53: every JSON parser reads such an integer exactly (an id the bank has not is a 404)
        entry_id: int = Field(ge=1, le=2**53, description="the entry that answers it")

    return RequestBodies(AskRequest, EntryIn, EntryChange, EntryPatch, LoggedQuestion, Assignment)


class CandidateOut(BaseModel):
    entry_id: int
    question: str
    answer: str
    score: float


class AnswerOut(BaseModel):
    question: str
    answered: bool
    threshold: float
    answer: str | None
    entry_id: int | None
    matched_question: str | None
    score: float | None
    reason: str | None
    did_you_mean: list[CandidateOut]
    candidates: list[CandidateOut]


class EntryOut(BaseModel):
    id: int
    question: str
    answer: str
    paraphrases: list[str]
    tags: list[str]
    group: str | None
    created: float
    updated: float


class EntryList(BaseModel):
    total: int = Field(description="entries that match `contains` (every entry without it)")
    entries: list[EntryOut]


class CalibrationOut(BaseModel):
    """How the threshold was chosen (`samesense calibrate`): its numbers, not its files."""

    target_precision: float
    precision: float = Field(description="expected, measured on the calibration data")
    coverage: float
    kind: str
    n_in_scope: int
    n_out_of_scope: int
    created: float


class HealthOut(BaseModel):
    """What a client needs to know of the service: no filesystem paths."""

    status: str
    ready: bool = Field(True, description="whether this server is ready to answer (a replica of a PostgreSQL "
                        "bank: in step with the database); a 503 says why not")
    writable: bool
    bank: str = Field(description="the bank's file name, or its database's address without user or password")
    entries: int
    questions: int
    index: str | None
    model_fingerprint: str | None
    threshold: float
    margin: float
    max_unknown: float | None = Field(None, description="questions with a larger share of unknown tokens get no answer")
    hybrid: float = Field(0.0, description="weight of BM25 in the score: (1 - w) * cosine + w * BM25 over the "
                          "question's own BM25 score; 0 the model alone")
    answers: float = Field(0.0, description="weight of the entry's answer text in its score: (1 - a) * its best "
                           "stored question's score + a * cosine(question, answer); 0 the stored questions alone")
    suggest: float = Field(1.0, description="below the threshold, a best score at least this still gets \"did you "
                           "mean\" choices; 1: off")
    calibration: CalibrationOut | None


class PageConfigOut(BaseModel):
    """What the web page needs to know of the server."""

    writable: bool = Field(description="whether entries can be changed here (with the token)")
    fallback_text: str = Field(description="shown under \"No confident answer\" (serve --fallback-text)")
    fallback_is_default: bool = Field(False, description="the fallback text is samesense's own: the page says it "
                                      "in the interface's language")
    has_token: bool = Field(False, description="whether the server has a bearer token: the support team's view "
                            "(the unanswered questions; the writes too where writable) opens with it")
    page_language: str = Field("en", description="the interface's language chosen for this request: en or zh (by "
                               "?lang, else the server's setting, else the request's Accept-Language)")
    page_language_setting: str = Field("auto", description="the server's setting: en, zh, or auto (Accept-Language)")


Outcome = Literal[UNANSWERED_OUTCOMES]  # one of them; `all` in a query stands for every one
OutcomeQuery = Literal[(*UNANSWERED_OUTCOMES, "all")]
Order = Literal[UNANSWERED_ORDERS]
Status = Literal[UNANSWERED_STATUSES]
StatusQuery = Literal[(*UNANSWERED_STATUSES, "all")]


class HandledOut(BaseModel):
    """A logged question handled: how many times it had been asked (its rows now off the open list)."""

    question: str
    status: Status
    entry_id: int | None
    asks: int = Field(description="its rows in the log given this status")


class NearestOut(BaseModel):
    """An entry an unanswered question came near: its matched question and score (not its answer)."""

    entry_id: int
    question: str
    score: float


class UnansweredOut(BaseModel):
    """Identical questions (but for case, punctuation and spacing) that were given no answer, as one."""

    question: str = Field(description="the latest wording")
    count: int = Field(description="times asked")
    first_asked: float = Field(description="seconds since the epoch, as `created` of an entry")
    last_asked: float
    outcome: Outcome = Field(description="the latest: abstained, or narrow (answered, but nearly not)")
    reason: str | None = Field(description="the latest reason")
    nearest: list[NearestOut]
    status: Status = Field(description="open until handled: assigned to an entry as a paraphrase, added as an "
                           "entry, or dismissed")
    entry_id: int | None = Field(description="the entry it was assigned to or added as")


class UnansweredList(BaseModel):
    recording: bool = Field(description="whether this server keeps an unanswered-questions log")
    total: int = Field(description="distinct questions in the log that match (outcome, status, since)")
    asks: int = Field(description="times they were asked")
    questions: list[UnansweredOut]


def validation_detail(errors: list[dict]) -> tuple[int, str]:
    """(status, detail) for pydantic's errors: 400 for malformed JSON, else 422; the first few
    errors, each as `field: what is wrong`."""
    status = 400 if any(e.get("type") == "json_invalid" for e in errors) else 422
    return status, "; ".join(_field_error(e) for e in errors[:5])


def _field_error(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    if error.get("type") == "json_invalid":
        return f"malformed JSON: {error.get('ctx', {}).get('error', error.get('msg'))}"
    return f"{where}: {error.get('msg')}"
