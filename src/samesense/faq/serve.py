"""The FAQ service: FastAPI over a FaqBank, with the web page in static/.

    POST   /ask            {"question": "...", "k": 5} -> the answer, or no answer with the reason
    GET    /faq            entries (offset, limit, contains); GET /faq/{id} one entry
    POST   /faq            add an entry            } bearer token
    PUT    /faq/{id}       change an entry         } (Authorization: Bearer TOKEN)
    DELETE /faq/{id}       delete an entry         }
    GET    /unanswered, POST /unanswered/..., PATCH /faq/{id}: the support team's loop (serve_loop.py)
    GET    /auth           204 with the right token, else 401      }
    GET    /config         what the page needs: writable, the text shown when there is no answer
    GET    /healthz        bank size, model, index, threshold (no filesystem paths)
    GET    /metrics        Prometheus text: requests, latencies, answers vs abstentions
    GET    /               the customer page; /widget to embed, /admin the support team's (page.py)
    GET    /docs, /openapi.json: the API

Every bad request is a 4xx with a JSON {"detail": "..."} naming what is wrong: bodies over the size
limit are refused (413) before they are read whole, malformed JSON or invalid UTF-8 is 400, a field
of the wrong type, empty, too long or out of range is 422, an entry that is not there 404; a fault of
the server is a 500 with a one-line detail, its traceback in the server's log only. /openapi.json
declares all of it: bounds, lengths, the error body, the bearer scheme. The checks live in guard.py,
the bodies in schemas.py, the metrics in metrics.py, the logs in logs.py; a route here only calls
the bank (and the unanswered-questions log, unanswered.py, which /ask writes to).
Routes are plain functions, so they run in uvicorn's thread pool; the bank's lock serialises index
writes against searches.
"""

# No `from __future__ import annotations`: the request bodies are classes made by create_app (for its
# limits), and FastAPI resolves a string annotation in the module's globals, where they are not.
import errno
import logging
import os
import socket
import sqlite3
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .. import __version__
from ..bounds import INT64_MAX
from ..errors import SamesenseError
from . import logs
from .bank import FaqBank, NoSuchEntry
from .choices import FALLBACK_TEXT, UNANSWERED_ROWS
from .database import BankUnavailable
from .follower import ChangeFollower, check_model, database_unavailable, follow, health
from .guard import (RETRY_AFTER, BodyLimit, Limits, Methods, RequestDeadline, SecurityHeaders, check_allowed_hosts,
                    check_token, default_allowed_hosts, token_access)
from .metrics import Metrics, RequestObservers
from .planner import HeldByAnotherEntry
from .page import add_page_routes, allow_embedding, check_origins, check_page_language
from .schemas import (EVERY_ROUTE, AnswerOut, EntryList, EntryOut, HealthOut, error_responses, request_bodies,
                      validation_detail)
from .serve_loop import EntryId, add_loop_routes
from .text import checked_fallback
from .unanswered import UnansweredLog, ask_and_record

__all__ = ["Limits", "create_app", "serve"]

log = logging.getLogger("samesense.serve")

METRICS_TYPES = {"text/plain": {"schema": {"type": "string"}},  # or OpenMetrics, when the Accept header asks for it
                 "application/openmetrics-text": {"schema": {"type": "string"}}}


def create_app(bank: FaqBank, token: str | None, limits: Limits | None = None, allowed_hosts: Sequence[str] = ("*",),
               *, read_only: bool = False, fallback_text: str = FALLBACK_TEXT,
               unanswered: UnansweredLog | None = None, follower: ChangeFollower | None = None,
               embed_origins: Sequence[str] = (), page_language: str = "auto") -> FastAPIOffline:
    """`token`: the bearer token writes, /auth and /unanswered need; None: no writes, and no
    /unanswered over HTTP. `read_only`: no writes even with the token. `allowed_hosts`: the Host
    headers answered (Starlette patterns: "example.com", "*.example.com", "*" for any).
    `fallback_text`: what the page shows under "No confident answer". `unanswered`: where /ask
    records abstentions and narrow answers (None: nowhere). `follower`: a replica's (follower.py).
    `embed_origins`: the origins whose pages may frame /widget and call the API (page.py; none: no
    embedding, no CORS). `page_language`: en, zh or auto (each request's Accept-Language)."""
    limits = limits or Limits()
    writable = token is not None and not read_only
    check_allowed_hosts(list(allowed_hosts))
    embed_origins, page_language = check_origins(embed_origins), check_page_language(page_language)
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
    app.add_middleware(Methods, router=app.router)
    allow_embedding(app, embed_origins)  # outside Methods: it answers a CORS preflight (OPTIONS)
    app.add_middleware(BodyLimit, max_body_bytes=limits.max_body_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(SecurityHeaders, frame_ancestors=embed_origins)
    app.add_middleware(RequestObservers, observers=[metrics.observe_request, logs.log_request])
    add_error_handlers(app)
    writer = [Depends(token_access(token if writable else None, writes=True))]
    with_token = [Depends(token_access(token, writes=False))]
    AskRequest, EntryIn, EntryChange = bodies[:3]
    add_loop_routes(app, bank, unanswered, bodies, limits, writer, with_token)  # the log, and PATCH /faq/{id}

    @app.post("/ask", response_model=AnswerOut, summary="answer a question or abstain",
              responses=error_responses(422))
    def ask(body: AskRequest):
        check_model(follower)
        answer = ask_and_record(bank, unanswered, limits.text("question", body.question), k=min(body.k, limits.max_k))
        metrics.ask(answer.answered)
        return answer.to_dict()

    @app.get("/faq", response_model=EntryList, summary="list entries", responses=error_responses(422))
    def list_entries(offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     contains: Annotated[str | None, Query(max_length=limits.max_question_chars)] = None):
        entries = bank.list_entries(offset, limit, contains or None)
        return {"total": bank.count(contains or None)[0], "entries": [e.to_dict() for e in entries]}

    @app.get("/faq/{entry_id}", response_model=EntryOut, summary="one entry", responses=error_responses(404, 422))
    def get_entry(entry_id: EntryId):
        entry = bank.get(entry_id)
        if entry is None:
            raise NoSuchEntry(entry_id)
        return entry.to_dict()

    @app.post("/faq", response_model=EntryOut, status_code=201, dependencies=writer, summary="add an entry (token)",
              responses=error_responses(401, 403, 409, 422))
    def add_entry(entry: EntryIn):
        return bank.add(**limits.fields(entry)).to_dict()

    @app.put("/faq/{entry_id}", response_model=EntryOut, dependencies=writer,
             summary="change an entry (token); fields left out stay, paraphrases given replace the list",
             responses=error_responses(401, 403, 404, 409, 422))
    def change_entry(entry_id: EntryId, change: EntryChange):
        return bank.update(entry_id, **limits.fields(change)).to_dict()

    @app.delete("/faq/{entry_id}", status_code=204, dependencies=writer, summary="delete an entry (token)",
                responses=error_responses(401, 403, 404, 422))
    def delete_entry(entry_id: EntryId):
        if not bank.delete(entry_id):
            raise NoSuchEntry(entry_id)
        return Response(status_code=204)

    @app.get("/auth", status_code=204, response_class=Response, dependencies=with_token,
             summary="204 with the server's token, 401 without it (the page checks a token with it)",
             responses=error_responses(401, 403))
    def auth():
        return Response(status_code=204)

    @app.get("/healthz", response_model=HealthOut, summary="is the service up; what it serves")
    def healthz():
        return health(bank, writable, follower)

    @app.get("/metrics", response_class=Response, summary="Prometheus metrics",
             responses={200: {"content": METRICS_TYPES}})
    def prometheus(request: Request):
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    add_page_routes(app, writable, fallback_text, page_language, has_token=token is not None)  # /, /widget, /admin...
    return app


def add_error_handlers(app) -> None:
    """Errors as one-line JSON details, never a traceback: a client's as 4xx, the server's as 500."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError):
        status, detail = validation_detail(err.errors())
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(SamesenseError)
    async def user_error(request: Request, err: SamesenseError):
        # the bank raises SamesenseError for what the request asked and cannot be: always the client's.
        # Its message quotes the request's text, so the log gets its kind alone (never a query or body)
        status = 404 if isinstance(err, NoSuchEntry) else 409 if isinstance(err, HeldByAnotherEntry) else 422
        log.debug("refused %s %s: %s (%d)", request.method, request.url.path, type(err).__name__, status)
        return JSONResponse({"detail": str(err)}, status_code=status)

    app.add_exception_handler(BankUnavailable, database_unavailable)

    @app.exception_handler(sqlite3.OperationalError)
    async def bank_busy(request: Request, err: sqlite3.OperationalError):
        # another process held the bank's write lock past the write timeout: the server is well, the
        # bank busy (SQLITE_BUSY); any other database error is a fault (the handler below)
        if "locked" not in str(err) and "busy" not in str(err):
            raise err
        log.warning("%s %s: the bank is locked by another process (%s)", request.method, request.url.path, err)
        return JSONResponse({"detail": "the bank is locked by another process's write; try again later"},
                            status_code=503, headers={"Retry-After": RETRY_AFTER.decode()})

    @app.exception_handler(Exception)
    async def server_fault(request: Request, err: Exception):
        # Starlette re-raises it after this answer, so uvicorn logs the traceback; the client sees one line
        return JSONResponse({"detail": "internal server error; the server's log has the details"}, status_code=500)


def server_settings(timeout: float = 10.0, max_connections: int | None = None, log_level: str = "warning") -> dict:
    """uvicorn's settings (uvicorn.run or uvicorn.Config keywords): a connection gets `timeout`
    seconds to deliver each whole request and to send the next one (RequestDeadline, uvicorn's
    keep-alive); past `max_connections` connections or requests at once, requests are answered 503.
    uvicorn's loggers at `log_level`, with no handler of their own (logs.configure gives them ours)
    and no access log of their own (logs.log_request's names the route)."""
    return {"http": RequestDeadline, "timeout_keep_alive": timeout, "limit_concurrency": max_connections,
            "log_level": log_level, "access_log": False, "log_config": None}


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` (uvicorn listens on it), or a one-line SamesenseError saying
    why not: bound here, before anything is loaded or printed, and handed to uvicorn, so no other
    process can take the port in between."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn: an IPv6 literal has colons
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart need not wait out TIME_WAIT
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise SamesenseError(bind_problem(host, port, err)) from None
    sock.set_inheritable(True)
    return sock


def bind_problem(host: str, port: int, err: OSError) -> str:
    """Why the port could not be bound, in the user's words (not uvicorn's errno text)."""
    if err.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use"
    if err.errno == errno.EACCES:
        return f"port {port} on {host}: permission denied (ports below 1024 need privileges)"
    if err.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: not an address of this machine"
    return f"cannot listen on {host} port {port}: {err.strerror or err}"


def serve(bank_path: str, model: str | None, host: str = "127.0.0.1", port: int = 8000,
          token: str | None = None, limits: Limits | None = None, threads: int = 1, timeout: float = 10.0,
          max_connections: int | None = 100, allowed_hosts: Sequence[str] | None = None, *,
          read_only: bool | None = None, fallback_text: str = FALLBACK_TEXT, record_unanswered: bool = True,
          unanswered_log: str | os.PathLike | None = None, unanswered_rows: int = UNANSWERED_ROWS,
          log_level: str = "info", log_format: str = "text", log_file: str | None = None,
          embed_origins: Sequence[str] = (), page_language: str = "auto") -> None:
    """`allowed_hosts` None: the address bound and this machine's names (default_allowed_hosts).
    `read_only` None: read-only when there is no token. `unanswered_log` None: BANK.unanswered
    (written by a read-only server too: see unanswered.py); `record_unanswered` False: none kept.
    `log_*`: logs.configure."""
    read_only = token is None if read_only is None else read_only
    check_token(token)  # before loading anything: a refusal comes at once
    allowed_hosts = list(allowed_hosts or default_allowed_hosts(host))
    check_allowed_hosts(allowed_hosts)
    fallback_text = checked_fallback(fallback_text)
    check_origins(embed_origins), check_page_language(page_language)  # before anything is loaded
    sock = listening_socket(host, port)
    bank = unanswered = follower = None
    try:
        logs.configure(log_level, log_format, log_file)
        bank = open_bank(bank_path, model, read_only or token is None, limits, threads)
        if record_unanswered:  # after the bank: a name mistyped must leave no log file behind
            unanswered = open_unanswered(unanswered_log or UnansweredLog.path_for(bank_path), unanswered_rows)
        follower = follow(bank)  # a replica of a PostgreSQL bank follows it; None for a file
        app = create_app(bank, token, limits, allowed_hosts, read_only=read_only, fallback_text=fallback_text,
                         unanswered=unanswered, follower=follower, embed_origins=embed_origins,
                         page_language=page_language)
        announce(bank, sock, allowed_hosts, unanswered)
        run_uvicorn(app, sock, server_settings(timeout, max_connections, log_level))
    finally:
        sock.close()
        for opened in (follower, unanswered, bank):
            if opened is not None:
                opened.close()


def open_bank(bank_path: str, model: str | None, read_only: bool, limits: Limits | None, threads: int) -> FaqBank:
    import faiss
    import torch

    torch.set_num_threads(threads)  # a single question is tiny: more threads only fight each other
    faiss.omp_set_num_threads(1)
    # a read-only server never writes the bank: with another model it encodes the questions in memory
    bank = FaqBank.open(bank_path, model, create=False, show_progress=None, read_only=read_only, limits=limits)
    try:
        bank.need_model()
        for notice in bank.notices:  # a writable open with another model reset the answer settings
            log.warning(notice)
    except BaseException:
        bank.close()
        raise
    return bank


def open_unanswered(path: str | os.PathLike, keep: int) -> UnansweredLog:
    try:
        return UnansweredLog(path, keep=keep)
    except SamesenseError as err:  # e.g. a bank on read-only storage: say what the user can do
        raise SamesenseError(f"{err}; --unanswered-log FILE puts it elsewhere, --no-unanswered-log keeps none") \
            from None


def announce(bank: FaqBank, sock: socket.socket, allowed_hosts: list[str],
             unanswered: UnansweredLog | None) -> None:
    """The "serving ..." line on stdout, and the start in the application log (its fields for JSON)."""
    info = bank.info()
    host, port = sock.getsockname()[:2]
    address = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
    mode = "read-only" if bank.read_only else "writable with the token"
    print(f"serving {bank.path}: {info['entries']} entries, {info['questions']} questions, {info['index']} "
          f"index, threshold {info['threshold']:.3f}, {mode}; {address} (Host: {', '.join(allowed_hosts)})",
          flush=True)
    log.info("serving %s on %s: %d entries, %d questions, %s index, model %s, threshold %.3f, %s; unanswered "
             "questions to %s", bank.path.name, address, info["entries"], info["questions"], info["index"],
             info["model_in_use"], info["threshold"], mode, unanswered.path if unanswered else "nowhere",
             extra={"bank": str(bank.path), "address": address, "entries": info["entries"],
                    "questions": info["questions"], "index": info["index"], "model": info["model_in_use"],
                    "bank_model": info["model_fingerprint"], "threshold": info["threshold"],
                    "writable": not bank.read_only, "unanswered_log": str(unanswered.path) if unanswered else None})


def run_uvicorn(app, sock: socket.socket, settings: dict) -> None:
    """uvicorn on the socket bound already, until it is stopped (Ctrl+C, SIGTERM): uvicorn.run's
    own steps, but for binding (uvicorn logs its start and stop, in our format)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, **settings))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # a second Ctrl+C, or the first re-raised after a graceful stop: done
        pass
    if not server.started:
        raise SamesenseError("the server did not start (its log says why)")
