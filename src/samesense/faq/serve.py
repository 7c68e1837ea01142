"""The FAQ service: FastAPI over a FaqBank, with the web page in static/.

    POST   /ask            {"question": "...", "k": 5} -> the answer, or no answer with the reason
    GET    /faq            entries (offset, limit, contains); GET /faq/{id} one entry
    POST   /faq            add an entry            } bearer token
    PUT    /faq/{id}       change an entry         } (Authorization: Bearer TOKEN)
    DELETE /faq/{id}       delete an entry         }
    GET    /healthz        bank size, model, index, threshold (no filesystem paths)
    GET    /metrics        Prometheus text: requests, latencies, answers vs abstentions
    GET    /               the web page; /docs and /openapi.json: the API

Every bad request is a 4xx with a JSON {"detail": "..."} naming what is wrong: bodies over the size
limit are refused (413) before they are read whole, malformed JSON or invalid UTF-8 is 400, a field
of the wrong type, empty, too long or out of range is 422, an entry that is not there 404; a fault of
the server is a 500 with a one-line detail, its traceback in the server's log only. /openapi.json
declares all of it: bounds, lengths, the error body, the bearer scheme. The checks live in guard.py,
the bodies in schemas.py, the metrics in metrics.py; a route here only calls the bank.
Routes are plain functions, so they run in uvicorn's thread pool; the bank's lock serialises index
writes against searches.
"""

# No `from __future__ import annotations`: the request bodies are classes made by create_app (for its
# limits), and FastAPI resolves a string annotation in the module's globals, where they are not.
from collections.abc import Sequence
from importlib import resources
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .. import __version__
from ..errors import SamesenseError
from .bank import FaqBank, NoSuchEntry
from .guard import (BodyLimit, Limits, RequestDeadline, SecurityHeaders, check_allowed_hosts, check_token,
                    default_allowed_hosts, write_access)
from .metrics import Metrics, RequestMetrics
from .schemas import (EVERY_ROUTE, INT64_MAX, AnswerOut, EntryList, EntryOut, HealthOut, error_responses,
                      request_bodies, validation_detail)

__all__ = ["Limits", "create_app", "serve"]

STATIC = resources.files("samesense.faq") / "static"

EntryId = Annotated[int, Path(ge=1, le=INT64_MAX, description="the entry's id")]
METRICS_TYPES = {"text/plain": {"schema": {"type": "string"}},  # or OpenMetrics, when the Accept header asks for it
                 "application/openmetrics-text": {"schema": {"type": "string"}}}


def create_app(bank: FaqBank, token: str | None, limits: Limits | None = None,
               allowed_hosts: Sequence[str] = ("*",)) -> FastAPIOffline:
    """`token`: the bearer token writes need; None serves read-only. `allowed_hosts`: the Host
    headers answered (Starlette patterns: "example.com", "*.example.com", "*" for any)."""
    limits = limits or Limits()
    check_allowed_hosts(list(allowed_hosts))
    metrics = Metrics()
    bodies = request_bodies(limits)
    # the /docs page's scripts come from the fastapi-offline package, not a CDN: support desks
    # often run with no internet
    app = FastAPIOffline(title="samesense FAQ", version=__version__, responses=error_responses(*EVERY_ROUTE),
                         description="Answers a question with the nearest stored FAQ question's answer, or "
                         "says it has no confident answer.")
    app.state.bank, app.state.metrics, app.state.limits = bank, metrics, limits
    # the last added is the outermost: metrics count every refusal, every refusal has the headers,
    # the Host is checked before the body is read
    app.add_middleware(BodyLimit, max_body_bytes=limits.max_body_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics, metrics=metrics)
    add_error_handlers(app)
    writer = [Depends(write_access(token))]
    AskRequest, EntryIn, EntryChange = bodies

    @app.post("/ask", response_model=AnswerOut, summary="answer a question or abstain",
              responses=error_responses(422))
    def ask(body: AskRequest):
        answer = bank.ask(limits.text("question", body.question), k=min(body.k, limits.max_k))
        metrics.ask(answer.answered)
        return answer.to_dict()

    @app.get("/faq", response_model=EntryList, summary="list entries", responses=error_responses(422))
    def list_entries(offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     contains: Annotated[str | None, Query(max_length=limits.max_question_chars)] = None):
        entries = bank.list_entries(offset, limit, contains or None)
        return {"total": bank.count()[0], "entries": [e.to_dict() for e in entries]}

    @app.get("/faq/{entry_id}", response_model=EntryOut, summary="one entry", responses=error_responses(404, 422))
    def get_entry(entry_id: EntryId):
        entry = bank.get(entry_id)
        if entry is None:
            raise NoSuchEntry(entry_id)
        return entry.to_dict()

    @app.post("/faq", response_model=EntryOut, status_code=201, dependencies=writer, summary="add an entry (token)",
              responses=error_responses(401, 403, 422))
    def add_entry(entry: EntryIn):
        return bank.add(**limits.fields(entry)).to_dict()

    @app.put("/faq/{entry_id}", response_model=EntryOut, dependencies=writer,
             summary="change an entry (token); fields left out stay", responses=error_responses(401, 403, 404, 422))
    def change_entry(entry_id: EntryId, change: EntryChange):
        return bank.update(entry_id, **limits.fields(change)).to_dict()

    @app.delete("/faq/{entry_id}", status_code=204, dependencies=writer, summary="delete an entry (token)",
                responses=error_responses(401, 403, 404, 422))
    def delete_entry(entry_id: EntryId):
        if not bank.delete(entry_id):
            raise NoSuchEntry(entry_id)
        return Response(status_code=204)

    @app.get("/healthz", response_model=HealthOut, summary="is the service up; what it serves")
    def healthz():
        return health(bank, writable=token is not None)

    @app.get("/metrics", response_class=Response, summary="Prometheus metrics",
             responses={200: {"content": METRICS_TYPES}})
    def prometheus(request: Request):
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def health(bank: FaqBank, writable: bool) -> dict:
    """/healthz: the bank's info, its file by name alone (HealthOut drops the rest: the model's
    folder, the calibration's files)."""
    info = bank.info()
    return {**info, "status": "ok", "writable": writable, "bank": bank.path.name}


def add_error_handlers(app) -> None:
    """Errors as one-line JSON details, never a traceback: a client's as 4xx, the server's as 500."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError):
        status, detail = validation_detail(err.errors())
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(SamesenseError)
    async def user_error(request: Request, err: SamesenseError):
        # the bank raises SamesenseError for what the request asked and cannot be: always the client's
        return JSONResponse({"detail": str(err)}, status_code=404 if isinstance(err, NoSuchEntry) else 422)

    @app.exception_handler(Exception)
    async def server_fault(request: Request, err: Exception):
        # Starlette re-raises it after this answer, so uvicorn logs the traceback; the client sees one line
        return JSONResponse({"detail": "internal server error; the server's log has the details"}, status_code=500)


def server_settings(timeout: float = 10.0, max_connections: int | None = None) -> dict:
    """uvicorn's settings (uvicorn.run or uvicorn.Config keywords): a connection gets `timeout`
    seconds to deliver each whole request and to send the next one (RequestDeadline, uvicorn's
    keep-alive); past `max_connections` connections or requests at once, requests are answered 503."""
    return {"http": RequestDeadline, "timeout_keep_alive": timeout, "limit_concurrency": max_connections,
            "log_level": "warning", "access_log": False}


def serve(bank_path: str, model: str | None, host: str = "127.0.0.1", port: int = 8000,
          token: str | None = None, limits: Limits | None = None, threads: int = 1, timeout: float = 10.0,
          max_connections: int | None = 100, allowed_hosts: Sequence[str] | None = None) -> None:
    """`allowed_hosts` None: the address bound and this machine's names (default_allowed_hosts)."""
    check_token(token)  # before loading anything: a refusal comes at once
    allowed_hosts = list(allowed_hosts or default_allowed_hosts(host))
    check_allowed_hosts(allowed_hosts)
    import faiss
    import torch
    import uvicorn

    torch.set_num_threads(threads)  # a single question is tiny: more threads only fight each other
    faiss.omp_set_num_threads(1)
    # a read-only server never writes the bank: with another model it encodes the questions in memory
    bank = FaqBank.open(bank_path, model, create=False, show_progress=None, read_only=token is None, limits=limits)
    bank.need_model()
    app = create_app(bank, token, limits, allowed_hosts)
    info = bank.info()
    print(f"serving {bank_path}: {info['entries']} entries, {info['questions']} questions, {info['index']} "
          f"index, threshold {info['threshold']:.3f}, {'writable with the token' if token else 'read-only'}; "
          f"http://{host}:{port}/ (Host: {', '.join(allowed_hosts)})", flush=True)
    try:
        uvicorn.run(app, host=host, port=port, **server_settings(timeout, max_connections))
    finally:
        bank.close()
