"""The FAQ service: FastAPI over a FaqBank, with the web page in static/.

    POST   /ask            {"question": "...", "k": 5} -> the answer, or no answer with the reason
    GET    /faq            entries (offset, limit, contains); GET /faq/{id} one entry
    POST   /faq            add an entry            } bearer token
    PUT    /faq/{id}       change an entry         } (Authorization: Bearer TOKEN)
    DELETE /faq/{id}       delete an entry         }
    GET    /healthz        bank size, model, index, threshold
    GET    /metrics        Prometheus text: requests, latencies, answers vs abstentions
    GET    /               the web page; /docs and /openapi.json: the API

Every bad request is a 4xx with a JSON {"detail": "..."} naming what is wrong: bodies over the size
limit are refused (413) before they are read whole, malformed JSON or invalid UTF-8 is 400, a field
of the wrong type, empty or too long is 422. Endpoints are plain functions, so they run in
uvicorn's thread pool; the bank's lock serialises index writes against searches.
"""

from __future__ import annotations

import hmac
import json
import math
import threading
import time
from dataclasses import dataclass
from importlib import resources
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from .. import __version__
from ..data import SamesenseError
from .bank import FaqBank

STATIC = resources.files("samesense.faq") / "static"


@dataclass
class Limits:
    max_body_bytes: int = 64 * 1024
    max_question_chars: int = 1000
    max_answer_chars: int = 20_000
    max_k: int = 50


# ---------------------------------------------------------------------------------------------
# Metrics


LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, math.inf)


class Metrics:
    """Counts and latency histograms per route, and answers vs abstentions; Prometheus text."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, list[int]] = {}  # route -> count per bucket
        self.latency_sum: dict[str, float] = {}
        self.asks = {"answered": 0, "abstained": 0}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self.lock:
            key = (method, route, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            buckets = self.latency.setdefault(route, [0] * len(LATENCY_BUCKETS))
            buckets[next(i for i, b in enumerate(LATENCY_BUCKETS) if seconds <= b)] += 1
            self.latency_sum[route] = self.latency_sum.get(route, 0.0) + seconds

    def ask(self, answered: bool) -> None:
        with self.lock:
            self.asks["answered" if answered else "abstained"] += 1

    def text(self) -> str:
        with self.lock:
            lines = ["# HELP samesense_requests_total HTTP requests by method, route and status.",
                     "# TYPE samesense_requests_total counter"]
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(f'samesense_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
            lines += ["# HELP samesense_request_seconds Request latency by route.",
                      "# TYPE samesense_request_seconds histogram"]
            for route, buckets in sorted(self.latency.items()):
                total = 0
                for bound, n in zip(LATENCY_BUCKETS, buckets):
                    total += n
                    le = "+Inf" if math.isinf(bound) else f"{bound:g}"
                    lines.append(f'samesense_request_seconds_bucket{{route="{route}",le="{le}"}} {total}')
                lines.append(f'samesense_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}')
                lines.append(f'samesense_request_seconds_count{{route="{route}"}} {total}')
            asked = sum(self.asks.values())
            lines += ["# HELP samesense_asks_total Questions asked, by outcome.", "# TYPE samesense_asks_total counter"]
            lines += [f'samesense_asks_total{{outcome="{k}"}} {v}' for k, v in self.asks.items()]
            lines += ["# HELP samesense_abstention_rate Share of questions given no answer.",
                      "# TYPE samesense_abstention_rate gauge",
                      f"samesense_abstention_rate {self.asks['abstained'] / asked if asked else 0.0:.6f}"]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The guard: body size limit and metrics, as plain ASGI (no per-request task, unlike @middleware)


def _json_response(status: int, detail: str) -> tuple[dict, dict]:
    body = json.dumps({"detail": detail}).encode()
    return ({"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body})


class RequestGuard:
    def __init__(self, app, limits: Limits, metrics: Metrics):
        self.app, self.limits, self.metrics = app, limits, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = [500]

        async def send_tracking(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        refusal = None
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limits.max_body_bytes):
            refusal = (400, "bad Content-Length") if not length.isdigit() else None
            refusal = refusal or (413, f"request body larger than {self.limits.max_body_bytes} bytes")
        body_receive = receive
        if refusal is None and scope["method"] in ("POST", "PUT", "PATCH"):
            chunks, size, more = [], 0, True
            while more:  # read the body here, so a chunked body without length is limited too
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
                if size > self.limits.max_body_bytes:
                    refusal = (413, f"request body larger than {self.limits.max_body_bytes} bytes")
                    break
            body = b"".join(chunks)
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as err:
                refusal = refusal or (400, f"request body is not valid UTF-8 (byte {err.start})")
            replayed = [{"type": "http.request", "body": body, "more_body": False}]

            async def body_receive():
                return replayed.pop() if replayed else await receive()

        if refusal is not None:
            for message in _json_response(*refusal):
                await send_tracking(message)
        else:
            await self.app(scope, body_receive, send_tracking)
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.observe(scope["method"], route, status[0], time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# Requests and responses


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


def _field_error(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    if error.get("type") == "json_invalid":
        return f"malformed JSON: {error.get('ctx', {}).get('error', error.get('msg'))}"
    return f"{where}: {error.get('msg')}"


# ---------------------------------------------------------------------------------------------
# The app


def create_app(bank: FaqBank, token: str | None, limits: Limits | None = None) -> FastAPI:
    """`token`: the bearer token writes need; None serves read-only."""
    limits = limits or Limits()
    metrics = Metrics()
    app = FastAPI(title="samesense FAQ", version=__version__,
                  description="Answers a question with the nearest stored FAQ question's answer, or "
                  "says it has no confident answer.")
    app.state.bank, app.state.metrics, app.state.limits = bank, metrics, limits
    app.add_middleware(RequestGuard, limits=limits, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError):
        errors = err.errors()
        status = 400 if any(e.get("type") == "json_invalid" for e in errors) else 422
        return JSONResponse({"detail": "; ".join(_field_error(e) for e in errors[:5])}, status_code=status)

    @app.exception_handler(SamesenseError)
    async def user_error(request: Request, err: SamesenseError):
        return JSONResponse({"detail": str(err)}, status_code=422)

    def text(value: str | None, name: str, longest: int) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise HTTPException(422, f"{name}: empty")
        if len(value) > longest:
            raise HTTPException(422, f"{name}: longer than {longest} characters ({len(value)})")
        return value

    def texts(values: list[str] | None, name: str, longest: int) -> list[str] | None:
        return None if values is None else [text(v, name, longest) for v in values]

    def writer(authorization: Annotated[str | None, Header(description="Bearer TOKEN")] = None) -> None:
        if token is None:
            raise HTTPException(403, "this server is read-only")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPException(401, "writes need the header Authorization: Bearer TOKEN",
                                headers={"WWW-Authenticate": "Bearer"})

    def found(entry_id: int):
        entry = bank.get(entry_id)
        if entry is None:
            raise HTTPException(404, f"no entry {entry_id}")
        return entry.to_dict()

    @app.post("/ask", response_model=AnswerOut, summary="answer a question or abstain")
    def ask(body: AskRequest):
        question = text(body.question, "question", limits.max_question_chars)
        answer = bank.ask(question, k=min(body.k, limits.max_k))
        metrics.ask(answer.answered)
        return answer.to_dict()

    @app.get("/faq", response_model=EntryList, summary="list entries")
    def list_entries(offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     contains: Annotated[str | None, Query(max_length=1000)] = None):
        entries = bank.store.list_entries(offset, limit, contains or None)
        return {"total": bank.store.count()[0], "entries": [e.to_dict() for e in entries]}

    @app.get("/faq/{entry_id}", response_model=EntryOut, summary="one entry")
    def get_entry(entry_id: int):
        return found(entry_id)

    @app.post("/faq", response_model=EntryOut, status_code=201, dependencies=[Depends(writer)],
              summary="add an entry (token)")
    def add_entry(entry: EntryIn):
        q, a = limits.max_question_chars, limits.max_answer_chars
        return bank.add(text(entry.question, "question", q), text(entry.answer, "answer", a),
                        texts(entry.paraphrases, "paraphrases", q), texts(entry.tags, "tags", 100),
                        text(entry.group, "group", 200)).to_dict()

    @app.put("/faq/{entry_id}", response_model=EntryOut, dependencies=[Depends(writer)],
             summary="change an entry (token); fields left out stay")
    def change_entry(entry_id: int, change: EntryChange):
        found(entry_id)
        q = limits.max_question_chars
        return bank.update(entry_id, text(change.question, "question", q),
                           text(change.answer, "answer", limits.max_answer_chars),
                           texts(change.paraphrases, "paraphrases", q), texts(change.tags, "tags", 100)).to_dict()

    @app.delete("/faq/{entry_id}", status_code=204, dependencies=[Depends(writer)],
                summary="delete an entry (token)")
    def delete_entry(entry_id: int):
        if not bank.delete(entry_id):
            raise HTTPException(404, f"no entry {entry_id}")
        return Response(status_code=204)

    @app.get("/healthz", summary="is the service up; what it serves")
    def healthz():
        return {"status": "ok", "writable": token is not None, **bank.info()}

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    def prometheus():
        return PlainTextResponse(metrics.text(), media_type="text/plain; version=0.0.4")

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def serve(bank_path: str, model: str | None, host: str = "127.0.0.1", port: int = 8000,
          token: str | None = None, limits: Limits | None = None, threads: int = 1) -> None:
    import faiss
    import torch
    import uvicorn

    torch.set_num_threads(threads)  # a single question is tiny: more threads only fight each other
    faiss.omp_set_num_threads(1)
    bank = FaqBank.open(bank_path, model, create=False, show_progress=None)
    bank.need_model()
    app = create_app(bank, token, limits)
    info = bank.info()
    print(f"serving {bank_path}: {info['entries']} entries, {info['questions']} questions, {info['index']} "
          f"index, threshold {info['threshold']:.3f}, {'writable with the token' if token else 'read-only'}; "
          f"http://{host}:{port}/", flush=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        bank.close()
