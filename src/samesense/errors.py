"""The errors a user can fix. The CLI and the HTTP service print their message as one line, never
a traceback; every module raises these instead of its own kinds."""

from __future__ import annotations

import os


class SamesenseError(Exception):
    """An error the user can fix (bad input, bad option); the CLI prints it without a traceback."""


class DataError(SamesenseError, ValueError):
    """Malformed input; the message names the file and the line."""

    def __init__(self, path: str | os.PathLike, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
