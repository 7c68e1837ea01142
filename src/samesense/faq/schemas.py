"""The HTTP API's request and response bodies (they make /openapi.json), and the one-line message
for a body that does not fit them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(Strict):
    question: StrictStr = Field(description="the question to answer")
    k: int = Field(5, ge=1, description="candidates to return (at most the server's limit)")


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


class EntryIn(Strict):
    question: StrictStr
    answer: StrictStr
    paraphrases: list[StrictStr] = []
    tags: list[StrictStr] = []
    group: StrictStr | None = None


class EntryChange(Strict):
    question: StrictStr | None = None
    answer: StrictStr | None = None
    paraphrases: list[StrictStr] | None = None
    tags: list[StrictStr] | None = None


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
    total: int
    entries: list[EntryOut]


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
