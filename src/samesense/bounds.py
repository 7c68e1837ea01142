"""Every bound a setting is held to, and the one check of a value against them. Torch-free, and it
imports nothing of ours, so anything may use it: the training settings (train/config.py) and the
command line derived from them, a saved model's config.json (components.py), the FAQ bank and its
HTTP API.

A bound shared by a training flag and the model setting it becomes is written once here, under a
name (DIM, TOKENS, ...): `setting(..., **DIM)` declares the flag, and a component's `bounds` maps
its setting to the same dict, so a saved model is held to what training would have accepted.
"""

from __future__ import annotations

import math
import os
from dataclasses import MISSING, field
from typing import Any, Callable

# The largest integer SQLite (the FAQ bank's ids and offsets), numpy and torch take: a larger one
# overflows there with a traceback instead of being refused where it comes in.
INT64_MAX = 2**63 - 1

# Absolute ceilings on sizes, far above any useful model: a config asking for more (a typo, a damaged
# model file) is refused before anything is allocated.
MAX_DIM = 65_536  # embedding, hidden and projection sizes
MAX_LAYERS = 64
MAX_TOKENS = 65_536  # tokens kept per sentence
MAX_UNKNOWN_BUCKETS = 1_000_000
MAX_VOCAB = 10_000_000  # ids an embedding table may have: vocabulary and unknown buckets
# Ceilings on the other integers, so that a typo is one line naming the flag, never an overflow
# inside torch or numpy (torch.set_num_threads takes a C int, torch.manual_seed 64 bits).
MAX_BATCH = 1_000_000  # sentences a batch (training and encoding), sentences of a group a batch
MAX_EPOCHS = 1_000_000
MAX_THREADS = 1024

# Named bounds: a training flag and the model setting it becomes hold to the same one.
DIM = {"at_least": 1, "at_most": MAX_DIM}
WIDE_DIM = {"at_least": 1, "at_most": 2 * MAX_DIM}  # a vector after a bidirectional encoder (twice a hidden size)
LAYERS = {"at_least": 1, "at_most": MAX_LAYERS}
TOKENS = {"at_least": 1, "at_most": MAX_TOKENS}
MIN_COUNT = {"at_least": 1, "at_most": INT64_MAX}
UNKNOWN_BUCKETS = {"at_least": 0, "at_most": MAX_UNKNOWN_BUCKETS}
VOCAB = {"at_least": 1, "at_most": MAX_VOCAB}
SHARE = {"at_least": 0.0, "at_most": 1.0}  # dropout
SLICES = {"at_least": 2, "at_most": 1024}  # srnn: parts a sentence is cut into, at each level
SLICE_LEVELS = {"at_least": 1, "at_most": 8}
GLYPH_SIZE = {"at_least": 8, "at_most": 64}  # a glyph bitmap's side in pixels (a model's 0: no glyphs)

# what setting_problem accepts for each annotation (an int is a float too, as JSON and Python write them)
TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool, "list[str]": list}
TYPE_NAMES = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
              "list[str]": "a list of file names"}


def shown(bound: float) -> str:
    """A bound as the user would type it: an int in full (9223372036854775807, not 9.22337e+18)."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


def setting(default: Any = MISSING, help: str = "", *, flag: str | None = None,
            choices: Callable[[], list[str]] | None = None, at_least: float | None = None,
            at_most: float | None = None, between: tuple[float, float] | None = None, metavar: str | None = None,
            cli: bool = True, factory: Callable | None = None) -> Any:
    """A config field with what the command line needs to know about it (cli/options.py reads it).
    `choices` is a function so that the registries it reads (losses, encoders) are imported only
    when asked."""
    meta = {"help": help, "flag": flag, "choices": choices, "at_least": at_least, "at_most": at_most,
            "between": between, "metavar": metavar, "cli": cli}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def setting_problem(name: str, value: Any, annotation: str, meta: Any) -> str | None:
    """What is wrong with a setting's value ("hidden_dim must be at least 1, got 0"), or None.
    `annotation` is the field's type as written ("int", "float | None"); `meta` holds its bounds
    and choices as setting() records them. Training settings (TrainConfig.check) and the model
    loader (components.py, for saved models' config.json) both hold values to it."""
    expected = annotation.removesuffix(" | None")
    if value is None and annotation.endswith("| None"):
        return None
    if not isinstance(value, TYPES[expected]) or (expected != "bool" and isinstance(value, bool)):
        return f"{name} must be {TYPE_NAMES[expected]}, got {value!r}"
    if isinstance(value, (bool, list)):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # JSON NaN passes every bound below
        return f"{name} must be a finite number, got {value}"
    if meta.get("choices") and value not in meta["choices"]():
        return f"{name} must be one of {', '.join(meta['choices']())}, got {value!r}"
    if meta.get("at_least") is not None and value < meta["at_least"]:
        return f"{name} must be at least {shown(meta['at_least'])}, got {value}"
    if meta.get("at_most") is not None and value > meta["at_most"]:
        return f"{name} must be at most {shown(meta['at_most'])}, got {value}"
    low_high = meta.get("between")
    if low_high and not low_high[0] < value < low_high[1]:
        return f"{name} must be between {shown(low_high[0])} and {shown(low_high[1])}, got {value}"
    return None


# What the machine can do: the counts that must fit it (threads, processes, connections) are held to
# these, by the command line (cli/parsing.py) and where a run is planned (train/plan.py).

def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: a container's share, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def open_files_limit() -> int:
    """How many files this process may hold open (its soft RLIMIT_NOFILE), unlimited: INT64_MAX."""
    try:
        import resource
    except ImportError:  # not on Windows: no limit known
        return INT64_MAX
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return INT64_MAX if soft == resource.RLIM_INFINITY else soft
