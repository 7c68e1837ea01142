"""A real run at a million groups: synthetic Chinese groups (datasets/synthetic.py), read and
tokenized as `samesense train` does, trained with the sampled head for a bounded time, the
validation top-1 measured every few minutes of training on groups never seen in training.

    python benchmarks/scale_run.py [--groups 1000000] [--minutes 20] [--sample-rate 0.1]
    python benchmarks/scale_run.py --quick      # a smoke run: 20,000 groups, 1 minute, docs left alone

An epoch at a million groups is hours on 2 cores, so the run is cut by time, not epochs, and
validated by the clock, not at epoch ends: it drives the training loop's stages (prepare_data, build,
epoch_batches, train_step: the code `samesense train` runs) and evaluates on its own clock. Every
500th group is held out for validation (2,000 groups at 1M). BM25 on the same validation
sentences, measured in the same run, is the reference line. Writes its section of
docs/benchmarks.md, docs/results/scale_run.json and docs/img/scale_run.png (not with --quick); a run
of another --groups is kept beside the earlier ones (one a group count), in the table and the plot.
Synthetic files are kept in benchmarks/out/synthetic (made once, ~30 s).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, bm25_open_set, machine, table, write_section  # noqa: E402

from samesense.datasets.synthetic import SyntheticSpec, write_synthetic  # noqa: E402
from samesense.evaluate import open_set_ranking  # noqa: E402
from samesense.files import atomic_save_png, atomic_write_json  # noqa: E402
from samesense.train.memory import peak_rss_mb  # noqa: E402
from samesense.train import TrainConfig  # noqa: E402
from samesense.train.data import prepare_data  # noqa: E402
from samesense.train.plan import plan_run  # noqa: E402
from samesense.train.step import build, epoch_batches, make_batch, train_step  # noqa: E402

RESULTS_JSON = REPO / "docs" / "results" / "scale_run.json"
PLOT = REPO / "docs" / "img" / "scale_run.png"
HELD_OUT_EVERY = 500  # every 500th group is a validation group


def synthetic_files(folder: Path, spec: SyntheticSpec) -> tuple[Path, Path]:
    """(train, val) files of the spec, made once."""
    stem = f"zh-{spec.groups}x{spec.per_group}-seed{spec.seed}"
    train, val = folder / f"{stem}-train.tsv.gz", folder / f"{stem}-val.tsv"
    folder.mkdir(parents=True, exist_ok=True)
    if not train.exists():
        write_synthetic(train, spec, keep=lambda g: g % HELD_OUT_EVERY != 0, show_progress=True)
    if not val.exists():
        write_synthetic(val, spec, keep=lambda g: g % HELD_OUT_EVERY == 0)
    return train, val


def validate(parts, data) -> dict:
    return open_set_ranking(parts.model.encode(data.val.sentences, 512), data.val.labels)  # encode: eval mode


def run(args) -> dict:
    spec = SyntheticSpec(args.groups, per_group=args.per_group, seed=0)
    train_file, val_file = synthetic_files(Path(args.folder), spec)
    torch.set_num_threads(args.threads)
    cfg = TrainConfig.of(encoder="gru", train=[str(train_file)], val=str(val_file), out=str(Path(args.folder) / "run"),
                         sample_rate=args.sample_rate, batch_size=args.batch_size, spectra=False, show_progress=True)
    started = time.perf_counter()
    data = prepare_data(cfg)
    prepared = {"seconds": round(time.perf_counter() - started, 1), "peak_mb": round(peak_rss_mb()),
                "token_ids_mb": round(data.token_ids.nbytes / 2**20, 1), "sentences": len(data.train),
                "groups": data.train.num_groups, "val_sentences": len(data.val), "val_groups": data.val.num_groups}
    print(f"data: {prepared}", flush=True)
    bm25 = bm25_open_set({"val": data.val})["val"]
    print(f"BM25 on the validation groups: {bm25}", flush=True)

    parts = build(plan_run(cfg), data)
    labels = torch.from_numpy(data.row_labels)
    curve = [{"minutes": 0.0, "steps": 0, "sentences": 0, **validate(parts, data), "peak_mb": round(peak_rss_mb())}]
    print(curve[-1], flush=True)
    trained, steps, loss_sum, next_eval, epoch = 0.0, 0, 0.0, args.eval_minutes * 60, 0
    while trained < args.minutes * 60:  # epochs, until the time is spent (at 1M groups: within the first)
        epoch += 1
        batches = epoch_batches(cfg, data, parts.loss, epoch)
        for rows in batches:
            tick = time.perf_counter()
            value, _, _ = train_step(parts, [make_batch(parts, data, labels, rows, "cpu")])
            trained += time.perf_counter() - tick
            steps, loss_sum = steps + 1, loss_sum + value
            if trained >= next_eval or trained >= args.minutes * 60:
                curve.append({"minutes": round(trained / 60, 2), "steps": steps, "epoch": epoch,
                              "sentences": steps * args.batch_size, "loss": round(loss_sum / steps, 4),
                              **validate(parts, data), "peak_mb": round(peak_rss_mb())})
                print(curve[-1], flush=True)
                next_eval += args.eval_minutes * 60
                if trained >= args.minutes * 60:
                    break
    return {"machine": machine(), "spec": vars(spec), "sample_rate": args.sample_rate,
            "centres_optimizer": cfg.optim.centres_optimizer, "batch_size": args.batch_size,
            "threads": args.threads, "minutes": args.minutes, "eval_minutes": args.eval_minutes,
            "epoch_steps": len(batches), "epochs": epoch, "note": args.note, "data": prepared,
            "bm25": bm25, "curve": curve}


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(8, 4.5))
    for i, run_ in enumerate(runs):
        curve, colour = run_["curve"], f"C{i}"
        axis.plot([p["minutes"] for p in curve], [p["top1"] for p in curve], marker="o", color=colour,
                  label=f"{run_['data']['groups']:,} groups: GRU, sampled head {run_['sample_rate']:g}")
        axis.axhline(run_["bm25"]["top1"], color=colour, linestyle="--", alpha=0.6,
                     label=f"{run_['data']['groups']:,} groups: BM25 (same validation)")
    axis.set_xlabel(f"training minutes ({runs[0]['threads']} thread(s))")
    axis.set_ylabel("validation top-1 (unseen groups)")
    axis.set_title("Synthetic groups: validation during a bounded run")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    fig.tight_layout()
    atomic_save_png(fig, path)


def report_run(results: dict) -> list[str]:
    d, curve = results["data"], results["curve"]
    rows = [[f"{p['minutes']:.1f}", f"{p['steps']:,}", f"{p['sentences'] / d['sentences']:.2f}", f"{p['top1']:.4f}",
             f"{p['top5']:.4f}", f"{p['top10']:.4f}", f"{p['peak_mb'] / 1024:.2f}"] for p in curve]
    last = curve[-1]
    return [
        f"### {d['groups']:,} groups",
        "",
        f"`python benchmarks/scale_run.py --groups {results['spec']['groups']} --minutes {results['minutes']:g} "
        f"--eval-minutes {results.get('eval_minutes', 2.5):g}` on "
        f"{results['machine']}: {d['groups']:,} synthetic Chinese training groups ({d['sentences']:,} sentences, "
        f"`datasets/synthetic.py`), sampled head {results['sample_rate']:g} (centres: "
        f"--centres-optimizer {results.get('centres_optimizer', 'adam')}), batch {results['batch_size']}, default "
        f"GRU, {results['threads']} thread(s), trained for {results['minutes']:g} minutes ({last['steps']:,} steps; an "
        f"epoch is {results['epoch_steps']:,}); validation: {d['val_groups']:,} groups never seen in training "
        f"({d['val_sentences']:,} sentences), each ranked against all others."
        + (f" {results['note']}" if results.get("note") else ""),
        "",
        f"Reading and tokenizing the training file: {d['seconds']} s, token ids {d['token_ids_mb']} MB, process peak "
        f"{d['peak_mb'] / 1024:.2f} GB after it. Peak of the whole run: {max(p['peak_mb'] for p in curve) / 1024:.2f} GB "
        "(target: under 4 GB).",
        "",
        table(["training minutes", "steps", "epochs seen", "val top1", "top5", "top10", "peak GB"], rows),
        "",
        f"BM25 on the same validation sentences (same run): top1 {results['bm25']['top1']:.4f}, "
        f"top5 {results['bm25']['top5']:.4f}, top10 {results['bm25']['top10']:.4f}.",
        "",
    ]


def report(runs: list[dict]) -> str:
    lines = []
    for run_ in runs:
        lines += report_run(run_)
    lines += [
        "Each training group is a new combination of an intent, an object and a modifier, said with other "
        "phrasings and synonyms, so the paraphrases of a group share few characters (BM25 is weak by design) and "
        "a class centre means something only after its group has been seen a few times: the runs are cut by "
        "time, and the epochs-seen column says how many passes that bought at each scale.",
        "",
        "![validation during the runs](img/scale_run.png)",
    ]
    return "\n".join(lines)


def merged(results: dict) -> list[dict]:
    """This run beside the runs of other group counts already in RESULTS_JSON (one run a count)."""
    earlier = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {"runs": []}
    earlier = earlier.get("runs", [earlier] if "curve" in earlier else [])  # a file of one run (the first format)
    runs = [r for r in earlier if r["spec"]["groups"] != results["spec"]["groups"]]
    return sorted(runs + [results], key=lambda r: -r["spec"]["groups"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=1_000_000)
    parser.add_argument("--per-group", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=20.0, help="training time (evaluation not counted)")
    parser.add_argument("--eval-minutes", type=float, default=2.0, help="validate after every this many minutes")
    parser.add_argument("--sample-rate", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--folder", default="benchmarks/out/synthetic")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--note", default="", help="what else ran on the machine, for the docs")
    parser.add_argument("--from-json", action="store_true",
                        help="rewrite the docs section and plot from the results file (--note: for the --groups run)")
    args = parser.parse_args()
    if args.from_json:
        runs = json.loads(RESULTS_JSON.read_text())["runs"]
        for r in runs:
            if args.note and r["spec"]["groups"] == args.groups:
                r["note"] = args.note
        atomic_write_json(RESULTS_JSON, {"runs": runs})
        plot(runs, PLOT)
        write_section("scale run", report(runs))
        return
    if args.quick:
        args.groups, args.eval_minutes, args.folder = 20_000, args.minutes / 4, "benchmarks/out/synthetic-quick"
        args.minutes = min(args.minutes, 1.0) if "--minutes" not in sys.argv else args.minutes
    results = run(args)
    if args.quick:
        return
    runs = merged(results)
    atomic_write_json(RESULTS_JSON, {"runs": runs})
    plot(runs, PLOT)
    write_section("scale run", report(runs))


if __name__ == "__main__":
    main()
