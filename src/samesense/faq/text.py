"""The rules every text obeys on its way into a bank, whichever door it comes in by (Python, the
commands, an imported file, the API): the bank applies them on every write, the importer to every
row (so a bad one is reported with its file and line), the service to every request (a 422).

  - text, valid UTF-8: no lone surrogates (what Python makes of bytes that are not UTF-8, and what
    SQLite cannot store)
  - no control characters (NUL, escape, ...) except tab, line feed and carriage return: they are
    never text a person typed, and they break terminals, TSV exports and logs
  - a question, paraphrase, tag or group is one line: its runs of white space become one space; an
    answer keeps its tabs and line breaks (only its ends are trimmed)
  - not empty, and no longer than the limits (choices.TextLimits); a list no longer either
A repeated question is kept once (`unique`).
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..errors import SamesenseError
from .choices import MAX_FALLBACK_CHARS, MIN_TOKEN_CHARS, TextLimits

SURROGATES = re.compile("[\ud800-\udfff]")
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0 and C1, less tab, LF and CR
MULTILINE = {"answer"}
TOKEN_CHARACTERS = re.compile("[!-~]+")  # visible ASCII: what an Authorization header carries as it is

DEFAULT_LIMITS = TextLimits()


def clean(text, name: str, limits: TextLimits = DEFAULT_LIMITS) -> str:
    """`text` as a bank stores it (a `name`: question, paraphrase, answer, tag or group), or a
    SamesenseError saying which rule it breaks."""
    if not isinstance(text, str):
        raise SamesenseError(f"{name}: expected text, got {type(text).__name__}")
    if SURROGATES.search(text):
        raise SamesenseError(f"{name}: not valid UTF-8")
    control = CONTROLS.search(text)
    if control:
        raise SamesenseError(f"{name}: control character U+{ord(control.group()):04X} at character "
                             f"{control.start() + 1}")
    text = text.strip() if name in MULTILINE else " ".join(text.split())
    if not text:
        raise SamesenseError(f"{name}: empty")
    longest = limits.longest(name)
    if len(text) > longest:
        raise SamesenseError(f"{name}: longer than {longest} characters ({len(text)})")
    return text


def clean_list(texts, name: str, limits: TextLimits = DEFAULT_LIMITS) -> list[str]:
    """A list field (`name`: paraphrases or tags) as a bank stores it: each text cleaned, at most
    `limits.most(name)` of them."""
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        raise SamesenseError(f"{name}: expected a list of texts, got {type(texts).__name__}")
    most = limits.most(name)
    if len(texts) > most:
        raise SamesenseError(f"{name}: more than {most} ({len(texts)})")
    return [clean(text, name.removesuffix("s"), limits) for text in texts]


def clean_group(group, limits: TextLimits = DEFAULT_LIMITS) -> str | None:
    """A group name as stored, None for no group."""
    return None if group is None else clean(group, "group", limits)


def unique(texts: Iterable[str]) -> list[str]:
    """The texts in their first order, each once."""
    return list(dict.fromkeys(texts))


def check_token(token: str | None) -> None:
    """Refuses (SamesenseError) a token too short to be secret, or with a character an HTTP header
    cannot carry as it is (a space, a control character, anything beyond ASCII: no client could
    send it, so no write would ever pass); None (read-only) passes."""
    if token is None:
        return
    if len(token) < MIN_TOKEN_CHARS:
        raise SamesenseError(f"the token has {len(token)} characters; use at least {MIN_TOKEN_CHARS} (e.g. "
                             "python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if not TOKEN_CHARACTERS.fullmatch(token):
        at = next(i for i, c in enumerate(token) if not TOKEN_CHARACTERS.fullmatch(c))
        raise SamesenseError("the token must be visible ASCII characters (an HTTP header carries it as they are); "
                             f"character {at + 1} is not")


def checked_fallback(text: str) -> str:
    """The page's fallback text, trimmed; refused empty or too long (the page would show a void or a wall)."""
    text = text.strip()
    if not text or len(text) > MAX_FALLBACK_CHARS:
        raise SamesenseError(f"the fallback text must have 1 to {MAX_FALLBACK_CHARS} characters, not {len(text)}")
    return text
