"""`samesense serve`: an FAQ bank over HTTP, with a web page.

FastAPI, uvicorn and the bank's modules are imported when the server starts, never for --help: the
limits the flags show come from samesense.faq.choices. The routes (samesense.faq.serve) go through
FaqBank's methods, never its store or index.
"""

from __future__ import annotations

import argparse
import os

from ..errors import SamesenseError
from ..faq.choices import (FALLBACK_TEXT, PAGE_LANGUAGES, LOG_FORMATS, LOG_LEVELS, MIN_TOKEN_CHARS, UNANSWERED_ROWS,
                           LimitValues)
from ..faq.text import check_token
from .bank_args import bank_arg, model_arg, unanswered_log_arg
from .options import given_values
from .parsing import bounded, connection_count, cpu_count, positive_int, text


TOKEN_ENV = "SAMESENSE_TOKEN"


def add_serve(p: argparse.ArgumentParser) -> None:
    p.description = ("POST /ask, GET/POST/PUT/DELETE /faq, GET /unanswered, /healthz, /metrics, the web page at "
                     f"/ and OpenAPI docs at /docs. Writes need a bearer token of at least {MIN_TOKEN_CHARS} "
                     f"characters: from ${TOKEN_ENV} or --token-file; without one the server only starts with "
                     "--read-only.")
    bank_arg(p)
    model_arg(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=bounded(int, at_least=0, at_most=65535), default=8000, help="port to listen on")
    p.add_argument("--token-file", metavar="FILE",
                   help=f"file holding the bearer token for writes and GET /unanswered (else ${TOKEN_ENV})")
    p.add_argument("--read-only", action="store_true",
                   help="refuse all writes (no token needed; one given still opens GET /unanswered)")
    limits = LimitValues()  # the server's defaults (guard.py's Limits, without FastAPI)
    p.add_argument("--max-body-bytes", type=positive_int, default=limits.max_body_bytes, metavar="N",
                   help="largest request body, in bytes")
    p.add_argument("--max-question-chars", type=positive_int, default=limits.max_question_chars, metavar="N",
                   help="longest question (and stored question)")
    p.add_argument("--max-answer-chars", type=positive_int, default=limits.max_answer_chars, metavar="N",
                   help="longest answer")
    p.add_argument("--threads", type=cpu_count(), default=1,
                   help="torch threads for encoding (one query is small: more threads only contend)")
    p.add_argument("--timeout", type=bounded(float, at_least=1), default=10.0, metavar="SECONDS",
                   help="a connection must deliver each whole request within SECONDS of opening or of its last "
                   "answer, else it is closed: idle and slow clients do not hold connections")
    p.add_argument("--max-connections", type=connection_count(), default=100, metavar="N",
                   help="connections (or requests) at once; beyond N, requests are answered 503")
    p.add_argument("--allowed-host", dest="allowed_hosts", action="append", metavar="HOST",
                   help="a Host header to answer (repeatable; *.example.com for subdomains, * for any); "
                   "others get 400 (default: the --host address, localhost, 127.0.0.1 and [::1])")
    p.add_argument("--fallback-text", type=text, default=FALLBACK_TEXT, metavar="TEXT",
                   help="what the web page shows under \"No confident answer\" (default: this, in the page's "
                   "language)")
    p.add_argument("--page-language", choices=PAGE_LANGUAGES, default="auto",
                   help="the pages' interface language (the customer pages and /admin): auto (each request's "
                   "Accept-Language, chosen by the server), or en, zh for every request (?lang=en|zh in a page's "
                   "address still overrides)")
    p.add_argument("--embed-origin", dest="embed_origins", action="append", default=[], metavar="ORIGIN",
                   help="an origin (https://help.example.com) whose pages may embed the widget (/widget, in an "
                   "iframe) and call the API (CORS); repeatable; default none: no page may frame this one")
    unanswered_log_arg(p)
    p.add_argument("--no-unanswered-log", action="store_true",
                   help="record nothing (by default questions given no answer, and those answered narrowly, "
                   "are recorded in the unanswered-questions log, by a read-only server too: see faq unanswered)")
    p.add_argument("--unanswered-rows", type=positive_int, default=UNANSWERED_ROWS, metavar="N",
                   help="rows the unanswered-questions log keeps; beyond N the oldest are dropped")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info",
                   help="the least serious log records written (info: the start and a line a request)")
    p.add_argument("--log-format", choices=LOG_FORMATS, default="text", help="text lines, or one JSON object a line")
    p.add_argument("--log-file", metavar="FILE",
                   help="append the logs to FILE (reopened when logrotate moves it) instead of writing them to stderr")
    p.set_defaults(func=run_serve)


MAX_TOKEN_FILE_BYTES = 4096  # a token is tens of characters: more is the wrong file (or /dev/zero)


def read_token(token_file: str | None) -> str | None:
    """The token from `token_file`, else from $SAMESENSE_TOKEN (None: neither). A file that cannot
    be read, is not UTF-8, is empty or too large is one line naming it (faq.serve's check_token
    then checks what the token is made of, wherever it came from)."""
    if token_file:
        try:
            with open(token_file, "rb") as f:
                raw = f.read(MAX_TOKEN_FILE_BYTES + 1)
        except OSError as err:
            raise SamesenseError(f"{token_file}: cannot read the token ({err.strerror})") from None
        if len(raw) > MAX_TOKEN_FILE_BYTES:
            raise SamesenseError(f"{token_file}: larger than {MAX_TOKEN_FILE_BYTES} bytes: not a token")
        try:
            token = raw.decode("utf-8").strip()
        except UnicodeDecodeError as err:
            raise SamesenseError(f"{token_file}: not valid UTF-8 (byte {err.start})") from None
        if not token:
            raise SamesenseError(f"{token_file}: empty token")
        try:
            check_token(token)
        except SamesenseError as err:
            raise SamesenseError(f"{token_file}: {err}") from None
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None


def run_serve(args) -> int:
    from ..faq.serve import Limits, serve

    token = read_token(args.token_file)
    if token is None and not args.read_only:
        raise SamesenseError(f"no token for writes: set ${TOKEN_ENV} or pass --token-file FILE "
                             "(or --read-only to serve without writes)")
    limits = Limits(**given_values(args, Limits))
    serve(args.bank, args.model, host=args.host, port=args.port, token=token, limits=limits, threads=args.threads,
          timeout=args.timeout, max_connections=args.max_connections, allowed_hosts=args.allowed_hosts,
          read_only=args.read_only, fallback_text=args.fallback_text, record_unanswered=not args.no_unanswered_log,
          unanswered_log=args.unanswered_log, unanswered_rows=args.unanswered_rows, log_level=args.log_level,
          log_format=args.log_format, log_file=args.log_file, embed_origins=args.embed_origins,
          page_language=args.page_language)
    return 0
