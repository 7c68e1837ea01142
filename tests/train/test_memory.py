"""memory.py: the peak resident memory, and keeping freed memory for reuse (in a child process:
the setting lasts for the rest of a process)."""

import platform
import subprocess
import sys

from samesense.train.memory import peak_rss_mb


def test_peak_resident_memory_grows_with_what_was_held():
    before = peak_rss_mb()
    block = bytearray(64 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    assert peak_rss_mb() >= before and peak_rss_mb() > 60


def test_freed_memory_is_kept_on_linux_and_allocations_still_work():
    code = ("import sys, torch; from samesense.train.memory import keep_freed_memory; kept = keep_freed_memory(); "
            "assert keep_freed_memory() == kept; x = torch.ones(4096, 4096); del x; y = torch.zeros(4096, 4096); "
            "assert float(y.sum()) == 0.0; print(kept)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == ("True" if glibc else "False")
