"""Replicas over one PostgreSQL bank beside the single SQLite service, in one run: POST /ask p50/p99
and writes per second for the SQLite service (one process), one PostgreSQL replica and two, at
10,000 and 100,000 entries; and, with two replicas, the time from a write acknowledged by one
replica to every replica answering it.

    python benchmarks/faq_replicas.py [--sizes 10000 100000] [--asks 2000] [--writes 200] [--watch 100]

The model is small and fast on purpose (the 2 shared cores): a word-level samesense encoder trained
here for 2 epochs on CLINC150's training groups (64-d); what is measured is the store, the index
and the service around it, not the encoder. The banks' questions are faq_load.py's (the shared
data's English sentences, topped up with joined pairs); the asked questions CLINC150's test queries.
Each size's bank is imported once into SQLite and copied into PostgreSQL by `faq migrate` (its
seconds are reported too). PostgreSQL is a throwaway cluster (tests/pg_cluster.py) with its
durable defaults (fsync at every commit), on this machine; the SQLite bank is WAL with
synchronous=NORMAL (no sync at a commit). Writes are POST /faq of new entries by 2 clients at once
(for 2 replicas: one on each); asks are one client, one request at a time (round robin over the
replicas). Writes the `faq_replicas` section of docs/benchmarks.md and docs/results/faq_replicas.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import REPO, machine, table, write_section  # noqa: E402
from faq_load import bank_questions, cpu_neighbours, load_said, percentiles  # noqa: E402
from pg_cluster import PgCluster, missing_reason, replicas  # noqa: E402

from samesense import datasets  # noqa: E402
from samesense.data import read_groups, read_sentences  # noqa: E402
from samesense.faq import FaqBank, FaqRow  # noqa: E402
from samesense.faq.migrate import migrate  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

TOKEN = "benchmark-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WARMUP = 100


def tiny_model(out: Path) -> str:
    files = [str(datasets.path("clinc150", f)) for f in ("groups_train.tsv.gz", "groups_dev.tsv.gz")]
    return train(TrainConfig.of(encoder="gru", train=files[:1], val=files[1], out=str(out / "run"), tokenizer="word",
                                min_count=2,
                                val_same_groups=True, epochs=2, embed_dim=64, hidden_dim=64, show_progress=False,
                                resume=True, seed=0))["model"]


def serving(bank: str, model: str, count: int, logs: Path):
    """`count` `samesense serve` processes on `bank`, writable, recording no unanswered questions."""
    return replicas(bank, model, TOKEN, logs, count, extra=("--no-unanswered-log",), wait=600)


def time_asks(urls: list[str], asked: list[str], n: int) -> dict:
    clients = [httpx.Client(base_url=url, timeout=30) for url in urls]
    latencies = []
    try:
        for i in range(WARMUP + n):
            client, body = clients[i % len(clients)], {"question": asked[i % len(asked)], "k": 5}
            started = time.perf_counter()
            r = client.post("/ask", json=body)
            if r.status_code != 200:
                raise SystemExit(f"/ask answered {r.status_code}: {r.text[:200]}")
            if i >= WARMUP:
                latencies.append(time.perf_counter() - started)
    finally:
        for client in clients:
            client.close()
    return {"asks": n, **percentiles(latencies)}


def new_questions(asked: list[str], n: int, seed: int) -> list[str]:
    """n questions no bank holds, of words the model knows: two asked queries joined, and a third."""
    rng = np.random.default_rng(seed)
    return [" ".join(asked[k] for k in rng.integers(len(asked), size=3)) for _ in range(n)]


def time_writes(urls: list[str], n: int, questions: list[str]) -> dict:
    """2 clients adding n entries between them (client i on replica i % replicas): writes/s."""
    failures = []

    def write(i: int) -> None:
        with httpx.Client(base_url=urls[i % len(urls)], timeout=60, headers=AUTH) as client:
            for j in range(i, n, 2):
                r = client.post("/faq", json={"question": questions[j], "answer": f"written {j}"})
                if r.status_code != 201:
                    failures.append(r.text[:200])

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"writes failed: {failures[:3]}")
    return {"writes": n, "writes_per_second": n / seconds}


def time_visibility(urls: list[str], questions: list[str]) -> dict:
    """n writes, through each replica in turn: seconds from the 201 to every replica answering it."""
    clients = [httpx.Client(base_url=url, timeout=30, headers=AUTH) for url in urls]
    seen = []
    try:
        for i, question in enumerate(questions):
            r = clients[i % len(clients)].post("/faq", json={"question": question, "answer": f"probe {i}"})
            acknowledged, entry = time.perf_counter(), r.json()["id"]
            for client in clients:
                while True:
                    found = client.post("/ask", json={"question": question, "k": 1}).json()["candidates"]
                    if found and found[0]["entry_id"] == entry:
                        break
                    if time.perf_counter() - acknowledged > 10:
                        raise SystemExit(f"write {entry} not answered by {client.base_url} within 10 s")
            seen.append(time.perf_counter() - acknowledged)
    finally:
        for client in clients:
            client.close()
    return {"probes": len(questions), **percentiles(seen)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="bank sizes (entries)")
    parser.add_argument("--asks", type=int, default=2000, help="timed /ask requests a configuration")
    parser.add_argument("--writes", type=int, default=200, help="timed writes a configuration")
    parser.add_argument("--watch", type=int, default=100, help="writes whose visibility is timed (2 replicas)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "faq_replicas"), help="work folder")
    args = parser.parse_args()
    if missing_reason():
        raise SystemExit(missing_reason())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = tiny_model(out)
    asked = (read_groups(datasets.path("clinc150", "groups_test.tsv.gz"), normalize=False).sentences
             + read_sentences(datasets.path("clinc150", "oos_test.txt.gz"), normalize=False))
    asked = [asked[i] for i in np.random.default_rng(1).permutation(len(asked))]
    questions = bank_questions(max(args.sizes), {" ".join(q.split()) for q in asked})
    load_before, neighbours = os.getloadavg(), cpu_neighbours()
    results, rows, seen_rows = [], [], []
    with PgCluster.started(durable=True) as cluster:
        for size in args.sizes:
            sqlite_bank = out / f"bank_{size}.faq"
            for stale in out.glob(sqlite_bank.name + "*"):
                stale.unlink()
            started = time.perf_counter()
            with FaqBank.open(sqlite_bank, model) as bank:
                bank.import_rows([FaqRow(q, f"answer {i}") for i, q in enumerate(questions[:size])])
            imported = time.perf_counter() - started
            pg_bank = cluster.new_database()
            started = time.perf_counter()
            migrate(sqlite_bank, pg_bank)
            migrated = time.perf_counter() - started
            for store, count in (("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 2)):
                bank = str(sqlite_bank) if store == "SQLite" else pg_bank
                logs = out / f"logs_{size}_{store}_{count}"
                logs.mkdir(exist_ok=True)
                fresh = new_questions(asked, args.writes + args.watch, seed=len(results))
                with ExitStack() as stack:
                    urls, _ = stack.enter_context(serving(bank, model, count, logs))
                    result = {"entries": size, "store": store, "replicas": count, "import_seconds": imported,
                              "migrate_seconds": migrated, **time_asks(urls, asked, args.asks),
                              **time_writes(urls, args.writes, fresh[:args.writes])}
                    if count > 1:
                        result["visibility"] = time_visibility(urls, fresh[args.writes:])
                results.append(result)
                print(json.dumps(result), flush=True)
                rows.append([f"{size:,}", store, str(count), f"{result['p50_ms']:.2f}", f"{result['p99_ms']:.2f}",
                             f"{result['writes_per_second']:.0f}"])
                if "visibility" in result:
                    v = result["visibility"]
                    seen_rows.append([f"{size:,}", str(count), str(v["probes"]), f"{v['p50_ms']:.1f}",
                                      f"{v['p99_ms']:.1f}", f"{v['max_ms']:.1f}"])
    load_after = os.getloadavg()
    by = {(r["entries"], r["store"], r["replicas"]): r for r in results}
    ratios = [f"{size:,}: {by[size, 'PostgreSQL', n]['p99_ms'] / by[size, 'SQLite', 1]['p99_ms']:.2f}x with {n}"
              for size in args.sizes for n in (1, 2)]
    atomic_write_json(REPO / "docs" / "results" / "faq_replicas.json",
                      {"machine": machine(), "model": model, "results": results, "load_before": load_before,
                       "load_after": load_after, "other_busy_processes": neighbours})
    builds = "; ".join(f"{r['entries']:,}: import {r['import_seconds']:.0f} s, migrate {r['migrate_seconds']:.0f} s"
                       for r in results if r["store"] == "SQLite")
    markdown = f"""## FAQ service replicas over PostgreSQL

`python benchmarks/faq_replicas.py {' '.join(sys.argv[1:])}` ({machine()}). The single SQLite service and one and
two `samesense serve` replicas over one PostgreSQL bank, measured in the same run, on one machine (the database
server, the replicas and the clients share its 2 cores). The encoder is a tiny one on purpose, trained by the
script (word-level, 64-d, 2 epochs on CLINC150): the store, index and service are measured, not the model.
/ask: one client, {args.asks} timed requests after {WARMUP} warm-up, one at a time, round robin over the replicas
(CLINC150's test queries). Writes: {args.writes} new entries (`POST /faq`) by 2 clients at once, one on each
replica with 2. PostgreSQL {cluster.bin.parent.name} with its durable defaults (a sync at every commit); the
SQLite bank in WAL with synchronous=NORMAL (no sync at a commit). Target: /ask p99 within 1.5x of SQLite at
100,000 entries; a write answered by every replica within 1 s (p99).

{table(["entries", "store", "replicas", "/ask p50 ms", "/ask p99 ms", "writes/s"], rows)}

/ask p99 against the SQLite service's: {'; '.join(ratios)}. With writers on both replicas, a write usually finds the
other replica's write committed just before it; its replica then catches up on the questions added since, its own
among them (`FaqBank._commit`, `index_keeper.only_added`), without reading every question id.

From a write's 201 (through each replica in turn) to every replica answering it (`/ask` finds the new entry first;
the time includes at least one `/ask` to each replica, so it is an upper bound at the resolution of one request):

{table(["entries", "replicas", "writes", "p50 ms", "p99 ms", "max ms"], seen_rows)}

Banks built before the timed runs: {builds} (`faq migrate` SQLite -> PostgreSQL, verified).
{load_said(load_before, load_after, neighbours)}
"""
    write_section("faq_replicas", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
