"""Millions of groups: what one training step costs (forward, backward and update, batch 256) and the
peak memory of a process, at 10k, 100k and 1M groups, for the dense head (every centre), the sampled
head (--sample-rate 0.1, Partial FC) and the centres split over 2 processes (--processes 2).

    python benchmarks/scale.py [--groups 10000 100000 1000000] [--steps 20]
    python benchmarks/scale.py --quick      # a smoke run: small sizes, docs left alone

Each setting runs in a fresh process (peak memory is the process's maximum resident set, from
getrusage, so settings must not share one), with the default encoder (char GRU, 128 units) on
random token ids of 16 to 32 characters and uniform random group labels: the head and its optimizer
are what grows with the number of groups. One thread a process (the 2-process setting uses both
cores). Step time: median of --steps steps after 3 warm-up steps. Writes its section of
docs/benchmarks.md, docs/results/scale.json and docs/img/scale.png (not with --quick).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table, write_section  # noqa: E402

from samesense.files import atomic_save_png, atomic_write_json  # noqa: E402
from samesense.train.memory import peak_rss_mb  # noqa: E402

RESULTS_JSON = REPO / "docs" / "results" / "scale.json"
PLOT = REPO / "docs" / "img" / "scale.png"
# name: (sample rate, processes, --head-precision, --centres-optimizer: sampled heads only)
SETTINGS = {"dense": (1.0, 1, "float32", "rowwise"), "sampled 0.1": (0.1, 1, "float32", "rowwise"),
            "sampled 0.1, adam centres": (0.1, 1, "float32", "adam"), "2 processes": (1.0, 2, "float32", "rowwise"),
            "2 processes, sampled 0.1": (0.1, 2, "float32", "rowwise"), "dense, bfloat16": (1.0, 1, "bfloat16", "rowwise"),
            "sampled 0.1, bfloat16": (0.1, 1, "bfloat16", "rowwise")}
VOCAB = [chr(0x4E00 + i) for i in range(3000)]  # a Chinese character vocabulary's size
BATCH = 256
RATIO_SETTINGS = ("sampled 0.1", "sampled 0.1, bfloat16")  # measured again against the dense head, in rounds


def measure(groups: int, sample_rate: float, steps: int, precision: str = "float32", optimizer: str = "rowwise") -> dict:
    """In this process (one of a group, when torch.distributed is set up): step times and peak memory."""
    from samesense.train import distributed
    from samesense.train.batch import Batch
    from samesense.tokenize import make_tokenizer
    from samesense.train import TrainConfig
    from samesense.train.plan import plan_run
    from samesense.train.step import build, train_step

    torch.set_num_threads(1)
    # unknown_buckets=0: the random ids are all in the vocabulary, so no bucket is read; the table stays
    # the size it had when these steps were first measured
    cfg = TrainConfig.of(encoder="gru", out="unused", sample_rate=sample_rate, processes=distributed.world_size(),
                         unknown_buckets=0,
                         head_precision=precision, centres_optimizer=optimizer)
    tokenizer = make_tokenizer(cfg.model.tokenizer_config(10_000), None)
    tokenizer.fit(VOCAB * 5)
    data = SimpleNamespace(train=SimpleNamespace(num_groups=groups), tokenizer=tokenizer)
    parts = build(plan_run(cfg), data)
    rng = np.random.default_rng([1, distributed.rank()])
    rows = BATCH // distributed.world_size()
    times = []
    for step in range(steps + 3):
        ids = [list(rng.integers(2, len(tokenizer), rng.integers(16, 33))) for _ in range(rows)]
        labels = torch.from_numpy(rng.integers(0, groups, rows))
        batch = Batch(rows=np.arange(rows), features=parts.model.features(ids, "cpu"), labels=labels)
        distributed.barrier()
        started = time.perf_counter()
        train_step(parts, [batch])
        distributed.barrier()
        if step >= 3:
            times.append(time.perf_counter() - started)
    return {"step_ms": 1000 * statistics.median(times),
            "peak_mb": peak_rss_mb()}


def worker(rank: int, groups: int, sample_rate: float, steps: int, precision: str, optimizer: str, port: int,
           results: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    result = measure(groups, sample_rate, steps, precision, optimizer)
    Path(f"{results}.{rank}").write_text(json.dumps(result))
    dist.destroy_process_group()


def one_setting(groups: int, sample_rate: float, processes: int, steps: int, precision: str, optimizer: str) -> dict:
    """Run in a child process: `python scale.py --child ...`; its JSON line back."""
    command = [sys.executable, __file__, "--child", str(groups), str(sample_rate), str(processes), str(steps), precision,
               optimizer]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{groups} groups, rate {sample_rate}, {processes} processes failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(groups: int, sample_rate: float, processes: int, steps: int, precision: str, optimizer: str) -> None:
    if processes == 1:
        print(json.dumps(measure(groups, sample_rate, steps, precision, optimizer)))
        return
    import tempfile

    import torch.multiprocessing as mp

    from samesense.train.distributed import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        results = f"{folder}/result"
        mp.start_processes(worker, args=(groups, sample_rate, steps, precision, optimizer, port, results), nprocs=2, start_method="spawn")
        parts = [json.loads(Path(f"{results}.{r}").read_text()) for r in range(2)]
    print(json.dumps({"step_ms": parts[0]["step_ms"], "peak_mb": max(p["peak_mb"] for p in parts)}))


def bfloat16_units() -> str:
    """Which of the CPU's bfloat16 units this machine has (Linux: /proc/cpuinfo flags)."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return "unknown"
    have = [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    return "this CPU has " + " and ".join(have) if have else "this CPU has neither: bfloat16 is emulated"


def plot(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, by_groups in results["settings"].items():
        sizes = sorted(int(g) for g in by_groups)
        left.plot(sizes, [by_groups[str(g)]["step_ms"] for g in sizes], marker="o", label=name)
        right.plot(sizes, [by_groups[str(g)]["peak_mb"] / 1024 for g in sizes], marker="o", label=name)
    for axis, label in ((left, "step time (ms, batch 256)"), (right, "peak memory per process (GB)")):
        axis.set_xscale("log")
        axis.set_xlabel("groups")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    left.legend()
    fig.suptitle("Training step cost by number of groups")
    fig.tight_layout()
    atomic_save_png(fig, PLOT)


def ratio_rounds(sizes: list[int], steps: int, rounds: int) -> dict[str, list[float]]:
    """The target's ratio measured again, pair by pair: in each round the dense head at the smallest
    size, then each sampled setting at the largest, in fresh processes one after the other, so that
    the machine's drift over the table's minutes (a fifth, here) falls on both sides of a ratio."""
    ratios: dict[str, list[float]] = {name: [] for name in RATIO_SETTINGS}
    for round_ in range(rounds):
        base = one_setting(sizes[0], *SETTINGS["dense"][:2], steps, *SETTINGS["dense"][2:])["step_ms"]
        for name in RATIO_SETTINGS:
            rate, processes, precision, optimizer = SETTINGS[name]
            ratios[name].append(one_setting(sizes[-1], rate, processes, steps, precision, optimizer)["step_ms"] / base)
        print(f"round {round_ + 1}: dense {base:.1f} ms; " + ", ".join(f"{n} {r[-1]:.2f}x" for n, r in ratios.items()),
              flush=True)
    return ratios


def rounds_text(results: dict, sizes: list[int]) -> str:
    rounds = results.get("ratio_rounds") or {}
    if not any(rounds.values()):
        return ""
    how = " (`python benchmarks/scale.py --rounds-only`, a call of its own)" if results.get("rounds_separately") else ""
    return (f"The same ratios measured again in {len(next(iter(rounds.values())))} rounds after the table{how} (each round: "
            f"the dense head at {sizes[0]:,} groups, then the setting at {sizes[-1]:,}, fresh processes one after the "
            "other): " + "; ".join(f"{name} median {statistics.median(r):.2f}x (rounds: "
                                   + ", ".join(f"{x:.2f}" for x in r) + ")" for name, r in rounds.items()) + ". ")


def report(results: dict) -> str:
    sizes = results["groups"]
    header = ["setting"] + [f"{g:,} groups: step ms / peak GB" for g in sizes]
    rows = [[name] + [f"{by[str(g)]['step_ms']:.1f} / {by[str(g)]['peak_mb'] / 1024:.2f}" for g in sizes]
            for name, by in results["settings"].items()]
    by_name = results["settings"]
    first, last = str(sizes[0]), str(sizes[-1])

    def ratio(name: str, base: str) -> float:
        return by_name[name][last]["step_ms"] / by_name[base][first]["step_ms"]

    return "\n".join([
        f"`python benchmarks/scale.py` on {results['machine']}: one training step (forward, backward, update; "
        f"batch {BATCH}, default char GRU encoder, 128-d, on random token ids and labels), median of "
        f"{results['steps']} steps, one thread a process; peak memory is the largest resident set of a process"
        + (f". {results['note']}" if results.get("note") else "") + ".",
        "",
        table(header, rows),
        "",
        f"Step time at {sizes[-1]:,} groups against {sizes[0]:,} (target: the sampled head within 2x): sampled 0.1 "
        f"{ratio('sampled 0.1', 'dense'):.2f}x the dense head's at {sizes[0]:,}; 2 processes sampled 0.1 "
        f"{ratio('2 processes, sampled 0.1', '2 processes'):.2f}x the 2-process dense head's at {sizes[0]:,} "
        f"({ratio('2 processes, sampled 0.1', 'dense'):.2f}x the one-process dense head's, on twice the cores); "
        f"sampled 0.1 with --head-precision bfloat16 {ratio('sampled 0.1, bfloat16', 'dense'):.2f}x the dense head's "
        f"({ratio('sampled 0.1, bfloat16', 'dense, bfloat16'):.2f}x the bfloat16 dense head's); sampled 0.1 with "
        f"--centres-optimizer adam {ratio('sampled 0.1, adam centres', 'dense'):.2f}x. "
        + rounds_text(results, sizes) +
        "The dense head reads and updates every centre each step (and Adam's two slots for each); the sampled one "
        "scores 10% of them (heads.SampledCosines: their normalisation and its gradient by hand, a slice of 1,024 "
        "rows at a time so that each chain of passes reads from cache, the sparse gradient in row order), drawn by "
        "numpy's set-based choice (a tenth of the time of topk over a million random priorities), and the centres' "
        "optimizer updates only those, starting from the copy of them the forward pass read: RowwiseRMSprop "
        "(--centres-optimizer rowwise, the default: one step size a centre, so a step reads and writes the weight "
        "rows alone; adam, SparseAdam's rule with torch's fused kernel, also reads and writes two moments a "
        "coordinate); the margin loss shifts its log-sum-exp by s (no pass for row maxima) and notes training "
        "accuracy's hits as it goes through the cosines (no pass of its own); the sampled runs keep freed memory "
        "in the heap (memory.py: the step's ~100 MB temporaries were otherwise faulted in afresh each step); two "
        "processes each hold half the centres and half the batch. bfloat16 takes the three (batch x classes) "
        "products in bfloat16, and the margin loss keeps its (batch x classes) exponentials and their gradient in it "
        "(AMX or AVX512-BF16 where the CPU has them: "
        + results.get("bfloat16_units", "not recorded") + "); the cosines' accuracy cost is in the next section.",
        "",
        "![step time and memory](img/scale.png)",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--ratio-rounds", type=int, default=5,
                        help="rounds of the target's pairs measured again after the table (0: none)")
    parser.add_argument("--rounds-only", action="store_true",
                        help="measure only the rounds, into the results of the last full run")
    parser.add_argument("--note", default="", help="what else ran on the machine, or how it behaved, for the docs")
    parser.add_argument("--from-json", action="store_true", help="rewrite the docs section from the results file")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        groups, rate, processes, steps, precision, optimizer = args.child
        child(int(groups), float(rate), int(processes), int(steps), precision, optimizer)
        return
    sizes, steps = ([1000, 10_000], 3) if args.quick else (args.groups, args.steps)
    if args.rounds_only or args.from_json:
        results = json.loads(RESULTS_JSON.read_text())
        results["note"] = args.note or results.get("note", "")
        if args.rounds_only:
            results["ratio_rounds"] = ratio_rounds(results["groups"], results["steps"], args.ratio_rounds)
            results["rounds_separately"] = True
        atomic_write_json(RESULTS_JSON, results)
        write_section("scale", report(results))
        return
    results = {"machine": machine(), "steps": steps, "groups": sizes, "settings": {}, "note": args.note,
               "bfloat16_units": bfloat16_units()}
    for name, (rate, processes, precision, optimizer) in SETTINGS.items():
        for groups in sizes:
            result = one_setting(groups, rate, processes, steps, precision, optimizer)
            results["settings"].setdefault(name, {})[str(groups)] = result
            print(f"{name:26s} {groups:>9,} groups: {result['step_ms']:8.1f} ms/step, "
                  f"peak {result['peak_mb'] / 1024:.2f} GB", flush=True)
    if args.quick:
        return
    results["ratio_rounds"] = ratio_rounds(sizes, steps, args.ratio_rounds)
    atomic_write_json(RESULTS_JSON, results)
    plot(results)
    write_section("scale", report(results))


if __name__ == "__main__":
    main()
