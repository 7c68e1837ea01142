"""The errors a user can fix. The CLI and the HTTP service print their message as one line, never
a traceback; every module raises these instead of its own kinds."""

from __future__ import annotations

import os
from contextlib import contextmanager


class SamesenseError(Exception):
    """An error the user can fix (bad input, bad option); the CLI prints it without a traceback."""


class BankUnavailable(SamesenseError):
    """An FAQ bank's database cannot be reached now (a server restarting, a lock held too long): the
    request may succeed later (the service answers 503, not 500)."""


class DataError(SamesenseError, ValueError):
    """Malformed input; the message names the file and the line."""

    def __init__(self, path: str | os.PathLike, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


@contextmanager
def library_errors(where, what: str, kinds: tuple[type[BaseException], ...] = (Exception,)):
    """A library's error of `kinds` (transformers, sentence-transformers reading a folder: a file
    missing or damaged, an unknown architecture) as one line: where, what failed, and the first line
    of the library's message."""
    try:
        yield
    except SamesenseError:
        raise
    except kinds as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise SamesenseError(f"{where}: {what} ({first})") from None
