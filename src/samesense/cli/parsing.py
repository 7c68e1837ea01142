"""What every command's parser shares: one-line errors, defaults shown in the help, checked values.

Light on purpose (argparse only): the command line imports it before it knows which command runs.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from ..bounds import INT64_MAX, open_files_limit, shown, usable_cpus
from ..faq.text import SURROGATES


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like every other error of the command line
    (argparse's own would print the whole usage first; train's alone is a screenful)."""

    def error(self, message: str):
        self.exit(2, f"samesense: error: {message} (see {self.prog} --help)\n")


def worth_showing(default) -> bool:
    """Whether "(default: X)" tells the reader something: not for a switch, nothing or emptiness.
    By identity, since 0 == False and 1 == True."""
    return not any(default is nothing for nothing in (None, True, False, argparse.SUPPRESS)) and default not in ("", [])


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a flag's default when it has a meaningful one and its help does not already say."""

    def _get_help_string(self, action):
        text = action.help or ""
        if not worth_showing(action.default) or "default" in text:
            return text
        return super()._get_help_string(action)


def read_number(kind: type, text: str):
    """`text` read as `kind`; a float that is nan or infinite is refused (it passes no comparison, so
    no bound would stop it: `serve --timeout nan` dropped every connection at once, `inf` held a
    silent client for ever). Every number flag of every command is read here."""
    value = kind(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def bounded(kind: type, at_least: float | None = None, at_most: float | None = None,
            between: tuple[float, float] | None = None, at_most_is: str = "") -> Callable[[str], object]:
    """An argparse type: the text read as `kind` (read_number: a float must be finite) and checked
    against the bounds (`between` excludes both ends), so that a bad value is refused while parsing,
    naming its flag. `at_most_is`: what the upper bound is, said after it (a count of the machine's)."""
    if kind is not float and at_least is None and at_most is None and between is None:
        return kind

    def read(text: str):
        value = read_number(kind, text)
        if at_least is not None and value < at_least:
            raise argparse.ArgumentTypeError(f"must be at least {shown(at_least)}, got {value}")
        if at_most is not None and value > at_most:
            raise argparse.ArgumentTypeError(f"must be at most {shown(at_most)}{at_most_is and f' ({at_most_is})'}, "
                                             f"got {value}")
        if between is not None and not between[0] < value < between[1]:
            raise argparse.ArgumentTypeError(f"must be between {shown(between[0])} and {shown(between[1])}, "
                                             f"got {value}")
        return value

    read.__name__ = kind.__name__  # argparse's message for unreadable text: "invalid int value: 'x'"
    return read


positive_int = bounded(int, at_least=1, at_most=INT64_MAX)
non_negative_int = bounded(int, at_least=0, at_most=INT64_MAX)

# What the machine can do (bounds.py: usable_cpus, open_files_limit), for the counts that must fit it
# (serve's and bench's --threads, --max-connections; train's are checked where a run is planned).
FILES_HELD = 64  # descriptors a server holds besides its connections: the bank, its index, logs, libraries


def cpu_count() -> Callable[[str], int]:
    """An argparse type: a count of threads, 1 to the CPUs this process may use."""
    return bounded(int, at_least=1, at_most=usable_cpus(), at_most_is="the CPUs this process may use")


def connection_count() -> Callable[[str], int]:
    """An argparse type: a count of connections at once, each an open file: 1 to the open-file limit
    less what the server holds besides."""
    most = max(1, open_files_limit() - FILES_HELD)
    return bounded(int, at_least=1, at_most=most,
                   at_most_is=f"the open-file limit (ulimit -n) less {FILES_HELD} the server holds besides")


def text(value: str) -> str:
    """An argparse type for text options: bytes that are not UTF-8 reach Python as lone
    surrogates (surrogateescape), which no file, bank or terminal can take; refused here, naming
    the option, instead of failing later with a traceback."""
    if SURROGATES.search(value):
        raise argparse.ArgumentTypeError("not valid UTF-8")
    return value


def add_progress_flags(parser, default=None) -> None:
    """--progress / --quiet, into `show_progress` (None: bars only on a terminal). train passes
    argparse.SUPPRESS, so that a flag not given leaves a resumed run's setting alone."""
    parser.add_argument("--progress", dest="show_progress", action="store_true", default=default,
                        help="always show progress bars (default: only on a terminal)")
    parser.add_argument("--quiet", dest="show_progress", action="store_false", default=default,
                        help="never show progress bars")

