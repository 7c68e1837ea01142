"""What a request must pass before a route acts on it, and what every response carries.

Requests: a Host header the server answers to (Starlette's TrustedHostMiddleware; the names come from
`allowed_hosts`), the body size limit and UTF-8 (ASGI middleware, before the body is read whole), the
bearer token for writes, /auth and /unanswered (`token_access`, on FastAPI's HTTPBearer, so
/openapi.json declares it), and the length of each text field. Every refusal is a 4xx with a JSON
{"detail": "..."} saying what is wrong (but for a Host not allowed: Starlette's plain-text 400).
Connections: a whole request within the server's timeout (`RequestDeadline`). Responses: the browser
security headers (`SecurityHeaders`)."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Annotated, Sequence

import h11
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.middleware.trustedhost import TrustedHostMiddleware
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import SamesenseError
from .choices import LimitValues
from .text import check_token, clean, clean_list  # noqa: F401 (check_token: serve's)

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")  # Host headers that name this machine


class Limits(LimitValues):
    """The limits (their fields and defaults: choices.py's LimitValues, which the command line shows
    without importing FastAPI), enforced on request fields with 422s: an HTTP face on text.py's
    rules, the very ones the bank applies to every write."""

    def text(self, field: str, value: str | list[str] | None) -> str | list[str] | None:
        """`value` as the bank stores it (each text of a list: paraphrases, tags), or 422 with the
        rule it breaks (empty, too long, a control character, ...); None (a field left out) stays
        None."""
        if value is None:
            return None
        try:
            return clean_list(value, field, self) if isinstance(value, list) else clean(value, field, self)
        except SamesenseError as err:
            raise HTTPException(422, str(err)) from None

    def fields(self, body: BaseModel) -> dict:
        """Every text field of a request body, checked by `text`."""
        return {field: self.text(field, value) for field, value in body}


BEARER = HTTPBearer(auto_error=False, scheme_name="BearerToken",  # our own 401/403 messages, not FastAPI's
                    description="The server's token (samesense serve: $SAMESENSE_TOKEN or --token-file).")


def token_access(token: str | None, writes: bool):
    """A route dependency that lets a request through only with `Authorization: Bearer TOKEN`.
    `writes`: a route that changes the bank, whose `token` is None on a read-only server; else a
    route that needs the token but changes nothing (/auth, /unanswered), open on a read-only server
    given a token. `token` None: 403 whatever the request carries, there is no token to check, and
    the route declares no bearer scheme (/openapi.json would otherwise promise a 401 to a request
    without the header). One check, each kind its messages."""
    if writes:
        no_token, wrong = "this server is read-only", "writes need the header Authorization: Bearer TOKEN"
    else:
        no_token = "this server has no token (samesense serve: $SAMESENSE_TOKEN or --token-file)"
        wrong = "this needs the header Authorization: Bearer TOKEN, with the server's token"

    if token is None:
        def refuse() -> None:
            raise HTTPException(403, no_token)

        return refuse

    def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, wrong, headers={"WWW-Authenticate": "Bearer"})

    return check


def default_allowed_hosts(host: str) -> list[str]:
    """The Host headers a server bound to `host` answers by default: that address and this machine's
    names (a browser page on another site cannot then reach it by DNS rebinding)."""
    bound = f"[{host}]" if ":" in host else host  # an IPv6 literal comes bracketed in a Host header
    return list(dict.fromkeys([bound.lower(), *LOCAL_HOSTS]))


def check_allowed_hosts(hosts: list[str]) -> None:
    """Refuses (SamesenseError) a host pattern Starlette would refuse only at the first request."""
    try:
        TrustedHostMiddleware(None, allowed_hosts=hosts)
    except AssertionError as err:
        raise SamesenseError(f"allowed hosts {hosts}: {err}") from None


class BodyLimit:
    """ASGI middleware: a body over the limit is refused (413) before it is read whole, chunked
    bodies without a length included; a body that is not UTF-8 is refused (400). Plain ASGI:
    @app.middleware would run each request in a task of its own."""

    def __init__(self, app, max_body_bytes: int):
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refusal = self.length_refusal(dict(scope["headers"]).get(b"content-length"))
        if refusal is None and scope["method"] in ("POST", "PUT", "PATCH"):
            body, refusal = await self.read_body(receive)
            if body is None:
                return  # the client left
            receive = replay(body, receive)
        if refusal is not None:
            await send_json(send, *refusal)
        else:
            await self.app(scope, receive, send)

    def length_refusal(self, length: bytes | None) -> tuple[int, str] | None:
        if length is None:
            return None
        if not length.isdigit():
            return 400, "bad Content-Length"
        if int(length) > self.max_body_bytes:
            return 413, f"request body larger than {self.max_body_bytes} bytes"
        return None

    async def read_body(self, receive) -> tuple[bytes | None, tuple[int, str] | None]:
        """(body, refusal); body None when the client disconnected."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None, None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_body_bytes:
                return b"", (413, f"request body larger than {self.max_body_bytes} bytes")
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as err:
            return body, (400, f"request body is not valid UTF-8 (byte {err.start})")
        return body, None


def replay(body: bytes, receive):
    """A `receive` that hands the app the body read already, then goes on with the connection."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive_again():
        return pending.pop() if pending else await receive()

    return receive_again


async def send_json(send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class Methods:
    """ASGI middleware over the app's routes: HEAD on a GET route is that GET without its body (RFC
    9110: every GET resource answers HEAD; FastAPI's routes take GET alone); a method no route of
    the path takes is a JSON 405 whose Allow names every method the path takes (Starlette's names
    the first matching route's alone: GET for /faq, which takes POST too). Paths no route takes go
    on, to their 404 (or the static files' mount)."""

    def __init__(self, app, router):
        self.app, self.router = app, router

    def routes_of(self, path: str) -> list:
        return [route for route in self.router.routes
                if getattr(route, "methods", None) and route.path_regex.match(path)]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        routes = self.routes_of(scope["path"])
        taken = {method for route in routes for method in route.methods}
        taken |= {"HEAD"} if "GET" in taken else set()
        if not taken or scope["method"] in taken - {"HEAD"}:
            return await self.app(scope, receive, send)
        if scope["method"] == "HEAD":
            async def without_body(message):
                if message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                await send(message)

            return await self.app({**scope, "method": "GET"}, receive, without_body)
        allow = ", ".join(sorted(taken))
        scope["route"] = routes[0]  # the metrics' route label, as Starlette's own 405 has it
        await send_json(send, 405, f"{scope['method']} is not allowed here: {allow}",
                        [(b"allow", allow.encode())])


# The page's own files: scripts, styles and calls to the API from this origin only, never framed.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The /docs and /redoc pages (fastapi-offline) start Swagger UI and ReDoc with an inline script and
# style them inline; their files still come from this origin only.
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
SECURITY_HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer")]


RETRY_AFTER = b"5"  # seconds, in a 503: the bank locked by another process, or the server full


WIDGET_PATH = "/widget"  # the page other origins may frame (page.py)


def security_headers(path: str, frame_ancestors: Sequence[str] = ()) -> list[tuple[bytes, bytes]]:
    """What every response carries: the CSP (the looser DOCS_POLICY on the API docs pages) and the
    rest. The widget, with `frame_ancestors` (serve --embed-origin), may be framed by those origins:
    its CSP names them, and X-Frame-Options (which cannot name an origin; the CSP rules it) is left off."""
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
    if path == WIDGET_PATH and frame_ancestors:
        policy = policy.replace("frame-ancestors 'none'", "frame-ancestors " + " ".join(frame_ancestors))
        return [(b"content-security-policy", policy.encode()), *SECURITY_HEADERS[1:]]
    return [(b"content-security-policy", policy.encode()), *SECURITY_HEADERS]


class SecurityHeaders:
    """ASGI middleware: every response gets a Content-Security-Policy (the looser DOCS_POLICY on the
    API docs pages), X-Frame-Options DENY, X-Content-Type-Options nosniff and Referrer-Policy
    no-referrer. Plain ASGI, like BodyLimit."""

    def __init__(self, app, frame_ancestors: Sequence[str] = ()):
        self.app, self.frame_ancestors = app, tuple(frame_ancestors)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = security_headers(scope["path"], self.frame_ancestors)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestDeadline(H11Protocol):
    """uvicorn's h11 protocol with a deadline: a connection must deliver a whole request (headers
    and body) within `timeout_keep_alive` seconds of opening, or of its last response, else it is
    closed. uvicorn's own keep-alive timer starts only after a first response and restarts on every
    byte received, so a client that connects and sends nothing, or a byte now and then, would hold
    its connection (and a slot of --max-connections) for ever. Pass it as uvicorn.Config(http=...)."""

    deadline: asyncio.TimerHandle | None = None

    def __init__(self, config, *args, **kwargs):
        super().__init__(config, *args, **kwargs)
        # the --max-connections check is ours (the app below), so that its 503 is JSON with the headers
        self.at_once, self.limit_concurrency = self.limit_concurrency, None
        if self.at_once is not None:
            self.app = self.full_or(self.app)

    def full_or(self, app):
        """`app`, or a JSON 503 when more connections or requests are open than --max-connections
        takes: uvicorn's own test (its task counted here already), its plain-text answer not."""
        async def gate(scope, receive, send):
            if scope["type"] == "http" and (len(self.connections) >= self.at_once or len(self.tasks) > self.at_once):
                self.logger.warning("Exceeded concurrency limit.")
                return await send_json(send, 503, "more requests at once than the server takes (--max-connections); "
                                       "try again later", [(b"retry-after", RETRY_AFTER), (b"connection", b"close"),
                                                           *security_headers(scope["path"])])
            return await app(scope, receive, send)

        return gate

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request h11 cannot parse, as JSON with the security headers."""
        body = json.dumps({"detail": f"malformed HTTP request: {msg}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"), *security_headers("/")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.start_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self.stop_deadline()  # the whole request is in (or the connection is ending)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may go on to a request the client sent meanwhile
        if not self.transport.is_closing() and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self.start_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_deadline()
        super().connection_lost(exc)

    def start_deadline(self) -> None:
        self.stop_deadline()
        self.deadline = self.loop.call_later(self.timeout_keep_alive, self.deadline_passed)

    def stop_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def deadline_passed(self) -> None:
        self.deadline = None
        if not self.transport.is_closing():
            self.transport.close()  # a route waiting for the rest of the body hears http.disconnect
