"""The service's web pages (templates/, static/), registered on serve.py's app, and who may embed them.

    GET /          the customer view (templates/customer.html), in the language the server chose for the
                   request (page_language.py): the answer (safe minimal markdown: lines kept, http(s)
                   links clickable), or a polite "no confident answer", the fallback text and at most
                   three "did you mean" questions; no scores, no other entries' answers
    GET /widget    the same, compact, to embed in an iframe on a page of an allowed origin
    GET /admin     the support team's view (templates/admin.html), in the language chosen by the same rule:
                   scores, candidates, entries and the unanswered questions (its data needs the bearer
                   token; a read-only server's shows the log alone, no action)
    GET /config    what the pages need: writable, whether there is a token, the fallback text, the
                   interface's language as chosen for this request (and the server's setting)
    /static/...    their scripts (i18n.js: the strings the page came with, the answers' rendering) and style

Embedding is off by default (every response: X-Frame-Options DENY, CSP frame-ancestors 'none', no
CORS). `serve --embed-origin https://help.example.com` (repeatable) lets those origins, and those
alone, frame /widget (CSP frame-ancestors; X-Frame-Options, which cannot name origins, is left off
there) and call the API from their own pages (CORS: GET and POST with a JSON body, no credentials).
"""

import re
from collections.abc import Sequence
from importlib import resources
from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware

from ..errors import SamesenseError
from .choices import FALLBACK_TEXT, PAGE_LANGUAGES
from .guard import WIDGET_PATH
from .page_language import choose_language, render_page
from .schemas import PageConfigOut, error_responses

STATIC = resources.files("samesense.faq") / "static"
VARY = {"Vary": "Accept-Language"}  # the pages and /config: caches keep one copy a language
# scheme://host[:port], as a browser sends it in Origin: no path, no wildcard, no trailing slash
ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?")


def check_origins(origins: Sequence[str]) -> list[str]:
    """The origins allowed to embed the widget, each as a browser writes it, or a one-line SamesenseError
    naming the first that is not one."""
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise SamesenseError(f"embed origin {origin!r}: expected scheme://host[:port], as a browser sends it "
                                 "(https://help.example.com: no path, no wildcard, no trailing slash)")
    return list(origins)


def check_page_language(language: str) -> str:
    if language not in PAGE_LANGUAGES:
        raise SamesenseError(f"page language {language!r}: one of {', '.join(PAGE_LANGUAGES)}")
    return language


def allow_embedding(app, origins: Sequence[str]) -> None:
    """CORS for `origins` alone (none: no CORS headers at all, the browser's same-origin rule)."""
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(origins), allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"], allow_credentials=False)


def add_page_routes(app, writable: bool, fallback_text: str, page_language: str, has_token: bool = False) -> None:
    """`page_language`: the server's setting (auto: each request's Accept-Language, page_language.py)."""
    def language(request: Request, asked: str | None) -> str:
        return choose_language(page_language, asked, request.headers.get("accept-language"))

    def customer(request: Request):
        page = render_page("customer", language(request, request.query_params.get("lang")),
                           widget=request.url.path == WIDGET_PATH)
        return HTMLResponse(page, headers=VARY)

    def admin(request: Request):
        return HTMLResponse(render_page("admin", language(request, request.query_params.get("lang"))), headers=VARY)

    app.get("/", include_in_schema=False)(customer)
    app.get(WIDGET_PATH, include_in_schema=False)(customer)  # the same, compact
    app.get("/admin", include_in_schema=False)(admin)

    @app.get("/config", response_model=PageConfigOut, summary="what the web page needs to know",
             responses=error_responses(422))
    def page_config(request: Request, response: Response,
                    lang: Annotated[str | None, Query(max_length=100, description="as the page's ?lang")] = None):
        response.headers.update(VARY)
        return {"writable": writable, "fallback_text": fallback_text, "has_token": has_token,
                "fallback_is_default": fallback_text == FALLBACK_TEXT, "page_language": language(request, lang),
                "page_language_setting": page_language}

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
