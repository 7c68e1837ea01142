"""What a request must pass before a route acts on it: the body size limit and UTF-8 (ASGI
middleware, before the body is read whole), the bearer token for writes, and the length of each text
field. Every refusal is a 4xx with a JSON {"detail": "..."} saying what is wrong."""

from __future__ import annotations

import hmac
import json
from typing import Annotated

from fastapi import Header, HTTPException
from pydantic import BaseModel

from .choices import LimitValues


class Limits(LimitValues):
    """The limits (their fields and defaults: choices.py's LimitValues, which the command line shows
    without importing FastAPI), enforced on request fields with 422s."""

    def text(self, field: str, value: str | list[str] | None) -> str | list[str] | None:
        """`value` trimmed (each text of a list), or 422 when empty or too long; None (a field
        left out) stays None."""
        if value is None:
            return None
        if isinstance(value, list):
            return [self.text(field, v) for v in value]
        value, longest = value.strip(), self.longest(field)
        if not value:
            raise HTTPException(422, f"{field}: empty")
        if len(value) > longest:
            raise HTTPException(422, f"{field}: longer than {longest} characters ({len(value)})")
        return value

    def fields(self, body: BaseModel) -> dict:
        """Every text field of a request body, checked by `text`."""
        return {field: self.text(field, value) for field, value in body}


def write_access(token: str | None):
    """A route dependency that lets a request through only with `Authorization: Bearer TOKEN`;
    `token` None: the server is read-only."""

    def check(authorization: Annotated[str | None, Header(description="Bearer TOKEN")] = None) -> None:
        if token is None:
            raise HTTPException(403, "this server is read-only")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPException(401, "writes need the header Authorization: Bearer TOKEN",
                                headers={"WWW-Authenticate": "Bearer"})

    return check


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


async def send_json(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
