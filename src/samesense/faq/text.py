"""The rules every text obeys on its way into a bank, whichever door it comes in by (the API, the
commands, an imported file): valid UTF-8, trimmed, not empty; a repeated question is kept once."""

from __future__ import annotations

import re
from typing import Iterable

from ..errors import SamesenseError

# what Python makes of bytes that are not UTF-8 (argv, files read with surrogateescape)
SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text, name: str) -> str:
    if not isinstance(text, str):
        raise SamesenseError(f"{name}: expected text, got {type(text).__name__}")
    if SURROGATES.search(text):
        raise SamesenseError(f"{name}: not valid UTF-8")
    text = text.strip()
    if not text:
        raise SamesenseError(f"{name}: empty")
    return text


def unique(texts: Iterable[str]) -> list[str]:
    """The texts in their first order, each once."""
    return list(dict.fromkeys(texts))
