"""The process's memory: what training reports, how freed memory is kept for reuse, and slices
of rows that stay in cache.

A step over a million classes makes temporaries of ~100 MB (the logits of 256 rows against a
sample of 100,000 centres, their exponentials, their gradient). glibc hands each allocation that
large to the kernel with mmap and gives it back at free, so every step faults in every page of
every temporary again: measured here, half of the step time. Keeping freed memory in the heap
for the next step removes that cost and does not raise the peak (the next step needs the same).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import resource
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)
_kept = False


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to serve large blocks from the heap and not to give freed memory back
    to the kernel, for the rest of this process. Returns whether it could (False elsewhere than
    glibc on Linux, where it is left alone)."""
    global _kept
    if _kept:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _kept = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
    return _kept


def in_cache(count: int, size: int):
    """Slices of `size` rows over `count`: a chain of row-wise passes over a large tensor run a slice
    at a time reads every pass but the first from cache, where whole passes go one after the other
    through memory (the sampled head's centres, the margin loss's bfloat16 exponentials)."""
    return (slice(first, first + size) for first in range(0, count, size))


def peak_rss_mb() -> float:
    """The most resident memory this process has held so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, KB on Linux
