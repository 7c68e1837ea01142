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
of the wrong type, empty or too long is 422, an entry that is not there 404. The checks live in
guard.py, the bodies in schemas.py, the metrics in metrics.py; a route here only calls the bank.
Routes are plain functions, so they run in uvicorn's thread pool; the bank's lock serialises index
writes against searches.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from .. import __version__
from ..errors import SamesenseError
from .bank import FaqBank, NoSuchEntry
from .guard import BodyLimit, Limits, write_access
from .metrics import Metrics, RequestMetrics
from .schemas import AnswerOut, AskRequest, EntryChange, EntryIn, EntryList, EntryOut, validation_detail

__all__ = ["Limits", "create_app", "serve"]

STATIC = resources.files("samesense.faq") / "static"


def create_app(bank: FaqBank, token: str | None, limits: Limits | None = None) -> FastAPIOffline:
    """`token`: the bearer token writes need; None serves read-only."""
    limits = limits or Limits()
    metrics = Metrics()
    # the /docs page's scripts come from the fastapi-offline package, not a CDN: support desks
    # often run with no internet
    app = FastAPIOffline(title="samesense FAQ", version=__version__,
                         description="Answers a question with the nearest stored FAQ question's answer, or "
                         "says it has no confident answer.")
    app.state.bank, app.state.metrics, app.state.limits = bank, metrics, limits
    app.add_middleware(BodyLimit, max_body_bytes=limits.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)  # added last, so outermost: counts refusals too
    add_error_handlers(app)
    writer = [Depends(write_access(token))]

    @app.post("/ask", response_model=AnswerOut, summary="answer a question or abstain")
    def ask(body: AskRequest):
        answer = bank.ask(limits.text("question", body.question), k=min(body.k, limits.max_k))
        metrics.ask(answer.answered)
        return answer.to_dict()

    @app.get("/faq", response_model=EntryList, summary="list entries")
    def list_entries(offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     contains: Annotated[str | None, Query(max_length=1000)] = None):
        entries = bank.list_entries(offset, limit, contains or None)
        return {"total": bank.count()[0], "entries": [e.to_dict() for e in entries]}

    @app.get("/faq/{entry_id}", response_model=EntryOut, summary="one entry")
    def get_entry(entry_id: int):
        entry = bank.get(entry_id)
        if entry is None:
            raise NoSuchEntry(entry_id)
        return entry.to_dict()

    @app.post("/faq", response_model=EntryOut, status_code=201, dependencies=writer, summary="add an entry (token)")
    def add_entry(entry: EntryIn):
        return bank.add(**limits.fields(entry)).to_dict()

    @app.put("/faq/{entry_id}", response_model=EntryOut, dependencies=writer,
             summary="change an entry (token); fields left out stay")
    def change_entry(entry_id: int, change: EntryChange):
        return bank.update(entry_id, **limits.fields(change)).to_dict()

    @app.delete("/faq/{entry_id}", status_code=204, dependencies=writer, summary="delete an entry (token)")
    def delete_entry(entry_id: int):
        if not bank.delete(entry_id):
            raise NoSuchEntry(entry_id)
        return Response(status_code=204)

    @app.get("/healthz", summary="is the service up; what it serves")
    def healthz():
        return {"status": "ok", "writable": token is not None, **bank.info()}

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    def prometheus(request: Request):
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def add_error_handlers(app) -> None:
    """Errors a client can fix as one-line JSON details, never a traceback."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError):
        status, detail = validation_detail(err.errors())
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(SamesenseError)
    async def user_error(request: Request, err: SamesenseError):
        return JSONResponse({"detail": str(err)}, status_code=404 if isinstance(err, NoSuchEntry) else 422)


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
