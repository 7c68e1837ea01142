"""Integer bounds shared by every way in (command-line flags, training settings, the FAQ bank and
its HTTP API), and how a bound is written in an error message."""

from __future__ import annotations

# The largest integer SQLite (the FAQ bank's ids and offsets), numpy and torch take: a larger one
# overflows there with a traceback instead of being refused where it comes in.
INT64_MAX = 2**63 - 1


def shown(bound: float) -> str:
    """A bound as the user would type it: an int in full (9223372036854775807, not 9.22337e+18)."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}"
