"""How long the command line takes to answer `--help`: what a user waits for before any work.

    python benchmarks/cli_start.py [--runs 15]

Each command is run afresh (a new interpreter, as from a shell) `--runs` times; the median and the
slowest wall time are printed, with the heavy libraries each one imported (none is the promise:
docs/architecture.md, "A command"). Prints only; nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = [["--help"], ["--version"], ["ask", "--help"], ["faq", "import", "--help"], ["serve", "--help"],
            ["train", "--help"]]
HEAVY = ("torch", "numpy", "fastapi", "faiss", "matplotlib")
PROBE = ("import sys, samesense.cli as c\n"
         "try:\n    c.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
         f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"{'command':32s} {'median s':>9s} {'max s':>7s}  heavy imports")
    for argv in COMMANDS:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "samesense", *argv], capture_output=True, text=True)
            times.append(time.perf_counter() - start)
        heavy = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True).stderr.strip()
        assert proc.returncode == 0, proc.stderr
        print(f"{'samesense ' + ' '.join(argv):32s} {statistics.median(times):9.3f} {max(times):7.3f}  {heavy or '-'}")


if __name__ == "__main__":
    main()
