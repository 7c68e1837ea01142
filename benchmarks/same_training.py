"""Does a refactor train the same models? Short runs of every loss, with this checkout and with
another commit, compared bit for bit (encoder weights and every logged number of every epoch).

    python benchmarks/same_training.py --base 6e22a94

The other commit is checked out into a temporary git worktree and run from its own source
(PYTHONPATH), with this checkout's installed packages; each run has one thread, so the arithmetic
is the same. The data: 40 CLINC150 intents (bundled), 2 epochs, a small GRU. Prints one line per
run and exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = [("softmax", {}), ("am-softmax", {}), ("aam-softmax", {}), ("a-softmax", {}), ("simpler-a-softmax", {}),
        ("contrastive", {}), ("triplet", {}), ("pair", {}),
        ("am-softmax", {"center_loss": 0.01, "orthogonal": 0.001, "pooling": "last", "dropout": 0.0}),
        ("am-softmax", {"lr_schedule": "cosine", "bidirectional": True, "num_layers": 2, "pooling": "mean"}),
        # the paths a plan chooses between: sampled centres (each optimizer, bfloat16), the sliced GRU, parts of
        # a batch, centres started at the groups' means, hashed unknown buckets, one rate for all (one group)
        ("am-softmax", {"sample_rate": 0.3}),
        ("am-softmax", {"sample_rate": 0.3, "centres_optimizer": "adam", "head_precision": "bfloat16"}),
        ("am-softmax", {"encoder": "srnn", "tokenizer": "char", "max_len": 16, "slices": 2}),
        ("am-softmax", {"accumulate": 2, "centre_init": "means", "warmup_steps": 5}),
        ("am-softmax", {"unknown_buckets": 64, "lr": 1e-3, "head_lr": 1e-3})]
SETTINGS = {"epochs": 2, "tokenizer": "word", "min_count": 1, "embed_dim": 16, "hidden_dim": 24, "batch_size": 32,
            "threads": 1, "show_progress": False}
LOGGED = ["loss", "train_acc", "val_top1", "val_top5", "val_top10", "singular_values", "a_softmax_lambda", "lr"]

# Runs inside either tree: the config API changed with the training package (TrainConfig.of).
RUNNER = """
import json, sys
from samesense.train import TrainConfig, train
settings = json.loads(sys.argv[1])
if hasattr(TrainConfig, "of"):
    train(TrainConfig.of(**settings, overwrite=True))
else:
    train(TrainConfig(**settings), overwrite=True)
"""


def write_data(path: Path) -> None:
    sys.path.insert(0, str(REPO / "src"))
    from samesense import datasets
    from samesense.data import load_groups

    groups = load_groups(datasets.path("clinc150", "groups_train.tsv.gz"))
    lines = [f"{groups.names[label]}\t{s}" for s, label in zip(groups.sentences, groups.labels) if label < 40]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(source: Path, settings: dict) -> None:
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    subprocess.run([sys.executable, "-c", RUNNER, json.dumps(settings)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=source)


def weights(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    for name in ("model/encoder/weights.safetensors", "model/model.safetensors"):  # components, or older
        if (run_dir / name).is_file():
            return load_file(str(run_dir / name))
    raise SystemExit(f"{run_dir}: no model weights")


def same(a: Path, b: Path) -> tuple[bool, bool]:
    import torch

    wa, wb = weights(a), weights(b)
    same_weights = wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    la, lb = ([json.loads(line) for line in open(d / "log.jsonl")] for d in (a, b))
    same_logs = len(la) == len(lb) and all(ra.get(k) == rb.get(k) for ra, rb in zip(la, lb) for k in LOGGED)
    return same_weights, same_logs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the commit to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = tmp / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base), args.base], check=True)
        try:
            write_data(tmp / "train.tsv")
            differ = 0
            for i, (loss, extra) in enumerate(RUNS):
                dirs = {}
                for name, source in (("base", base), ("this", REPO)):
                    dirs[name] = tmp / f"{name}-{i}"
                    run(source, {"train": [str(tmp / "train.tsv")], "out": str(dirs[name]), "loss": loss,
                                 **SETTINGS, **extra})
                same_weights, same_logs = same(dirs["base"], dirs["this"])
                differ += not (same_weights and same_logs)
                print(f"{loss:18s} {json.dumps(extra):90s} weights {'identical' if same_weights else 'DIFFER'}, "
                      f"logs {'identical' if same_logs else 'DIFFER'}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], check=False)
    print(f"{len(RUNS) - differ} of {len(RUNS)} runs identical to {args.base}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
