"""The service's logs, through the standard library's `logging`:

    samesense.serve       the application log: start and stop, the bank, model and address served,
                          refusals of the bank (debug), faults
    samesense.unanswered  a question that could not be recorded (unanswered.py)
    samesense.access      a line a request: method, route, path, status, duration, client
    uvicorn.error         uvicorn's own messages (a fault's traceback among them)

`configure` gives all of them one handler, so uvicorn's messages come in the same format as ours
(uvicorn is started with log_config=None: it installs no handler of its own, and its access log
is off: ours names the route). Text, one line a record (a traceback follows its line), or JSON
lines: one object a record, with `time` (UTC), `level`, `logger`, `message`, the record's own
fields (an access record's method, route, path, status, duration_ms, client) and `exception`.
To stderr, or to a file that logrotate may move (WatchedFileHandler reopens it).

Never logged: request headers (the bearer token is one), query strings, request and response
bodies (questions, answers). Questions go to the unanswered-questions log alone, which needs the
token to be read.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from logging.handlers import WatchedFileHandler

from .choices import LOG_FORMATS, LOG_LEVELS
from .metrics import route_label

__all__ = ["configure", "log_request"]

LOGGERS = ("samesense", "uvicorn")  # the service's loggers, and uvicorn's, under one handler each
HANDLER_NAME = "samesense-service"  # ours, to be replaced when configure is called again
access = logging.getLogger("samesense.access")
# a LogRecord's own attributes: anything else on a record came as `extra`, and goes into its JSON
RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}


def configure(level: str = "info", form: str = "text", file: str | None = None) -> logging.Handler:
    """Send the service's and uvicorn's logs at `level` (and above) to stderr, or appended to
    `file`, as `form` (text or json); calling it again replaces the handler. The handler."""
    if level not in LOG_LEVELS or form not in LOG_FORMATS:
        raise ValueError(f"log level {level!r} or format {form!r}")
    handler = logging.StreamHandler(sys.stderr) if file is None else WatchedFileHandler(file, encoding="utf-8")
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == HANDLER_NAME]:
            logger.removeHandler(old)
            old.close()
        logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False  # the root logger's handlers (if an embedding program has some) would repeat it
    return handler


class TextFormatter(logging.Formatter):
    """`2024-05-01 12:00:00.123 INFO samesense.access: message`, in local time."""

    def __init__(self):
        super().__init__("%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")


class JsonFormatter(logging.Formatter):
    """One JSON object a record, on one line (a traceback in `exception`, its line breaks escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        out.update((key, value) for key, value in vars(record).items() if key not in RECORD_FIELDS)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def log_request(scope, status: int | None, seconds: float) -> None:
    """The access log's record of one request (a RequestObservers observer); status None: the
    client left before any answer."""
    if not access.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    # the method and path as sent: h11 lets no space or control character through in either
    fields = {"method": scope["method"], "route": route_label(scope), "path": request_path(scope),
              "status": status, "duration_ms": round(seconds * 1000, 1),
              "client": f"{client[0]}:{client[1]}" if client else None}
    access.info('%s "%s %s" %s %.1f ms', fields["client"] or "-", fields["method"], fields["path"],
                status or "left before an answer", fields["duration_ms"], extra=fields)


def request_path(scope) -> str:
    """The path as the client sent it (percent-encoded), without the query string (it may hold
    what a user typed)."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if raw else scope.get("path", "")
