"""What long work shows a person: one-line messages on stderr and progress bars.

Bars follow one rule everywhere: `show=None` shows them only when stderr is a terminal, True
always, False never; they vanish when done (leave=False), so logs keep only the summary lines.
"""

from __future__ import annotations

import sys
from typing import Iterable


# True in the processes of a run split over several other than the first: one voice speaks for all
quiet = False


def say(message: str) -> None:
    if quiet:
        return
    print(message, file=sys.stderr, flush=True)


def progress(iterable: Iterable | None = None, desc: str = "", unit: str = "it",
             show: bool | None = None, **options):
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, unit=unit, leave=False, disable=True if quiet else None if show is None else not show,
                **options)
