"""Load test of the FAQ service: `samesense serve` on 127.0.0.1, one client, a bounded number of
POST /ask requests over one keep-alive connection; p50/p99 latency and requests per second with a
10,000- and a 100,000-entry bank (exact flat index), and the 100,000 bank with the HNSW index too.

The banks' questions are the distinct English sentences of ../shared/data (read at run time, never
copied into the repo), topped up to 100,000 with sentences made by joining two of them; the asked
questions are CLINC150's test queries (in scope and out of scope), cycled. The model is the one
benchmarks/faq_clinc150.py trained (or one trained here the same way if it is missing).

    python benchmarks/faq_load.py [--requests 3000] [--sizes 10000 100000] [--hybrid 0 0.5]

Writes its section of docs/benchmarks.md and docs/results/faq_load.json. Latency is what the
client measures: send, server work, receive.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import samesense

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, REPO, machine, table, write_section  # noqa: E402

from samesense import datasets  # noqa: E402
from samesense.data import read_groups, read_lines, read_sentences  # noqa: E402
from samesense.errors import SamesenseError  # noqa: E402
from samesense.faq import FaqBank, FaqRow  # noqa: E402
from samesense.faq.text import clean  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

WARMUP = 200


def bank_questions(n: int, asked: set[str]) -> list[str]:
    """n distinct English questions: the shared data's sentences (less the ones the load test asks,
    so that no question finds itself), then joined pairs of them."""
    seen: dict[str, None] = dict.fromkeys(asked)
    for path in sorted((DATA / "en").glob("*/*.tsv")):
        for _, line in read_lines(path):
            fields = line.split("\t")
            for text in (fields[1:2] if path.name.startswith("groups") else fields[:2]):
                seen.setdefault(" ".join(text.split()))
    # a few shared sentences break the bank's text rules (a control character, an overlong line): left out
    real = [s for s in seen if s and s not in asked and storable(s)]
    if not real:
        raise SystemExit(f"no English sentences under {DATA / 'en'} (set SAMESENSE_DATA)")
    rng = np.random.default_rng(0)
    questions = list(real[:n])
    while len(questions) < n:
        a, b = rng.integers(len(real), size=2)
        joined = f"{real[a]} {real[b]}"
        if joined not in seen:
            seen[joined] = None
            questions.append(joined)
    return questions


def storable(text: str) -> bool:
    try:
        clean(text, "question")
    except SamesenseError:
        return False
    return True


def model_dir(out: Path) -> str:
    trained = REPO / "benchmarks" / "out" / "faq_clinc150" / "run" / "model"
    if trained.exists():
        return str(trained)
    files = [str(datasets.path("clinc150", f)) for f in ("groups_train.tsv.gz", "groups_dev.tsv.gz")]
    return train(TrainConfig.of(encoder="gru", train=files[:1], val=files[1], out=str(out / "run"), tokenizer="word",
                                min_count=2,
                                val_same_groups=True, epochs=10, show_progress=False, resume=True))["model"]


def build_bank(path: Path, model: str, questions: list[str], kind: str) -> dict:
    """Import the questions into a new bank; seconds taken. A bank built before with the same model
    and size is kept (its build time was recorded beside it), so building and timing can be run apart."""
    record = path.with_name(path.name + ".build.json")
    fingerprint = samesense.load(model).fingerprint
    digest = hashlib.sha256("\n".join(questions).encode()).hexdigest()
    if record.exists() and path.exists():
        built = json.loads(record.read_text())
        if (built["fingerprint"], built.get("questions_sha256")) == (fingerprint, digest):
            return built
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    started = time.perf_counter()
    with FaqBank.open(path, model, show_progress=True) as bank:
        bank.set_settings(index=kind)
        bank.import_rows([FaqRow(q, f"answer {i}") for i, q in enumerate(questions)])
    built = {"fingerprint": fingerprint, "questions_sha256": digest, "entries": len(questions),
             "seconds": time.perf_counter() - started,
             "load_average": os.getloadavg()}  # the machine is shared: say how busy it was
    atomic_write_json(record, built)
    return built


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bank: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # warnings only: the pipe is read only if the server dies, and an access log would fill it
    proc = subprocess.Popen([sys.executable, "-m", "samesense.cli", "serve", str(bank), "--read-only",
                             "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stdout.read()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start in 300 s")


def load_test(port: int, questions: list[str], n: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    bodies = [json.dumps({"question": q, "k": 5}).encode() for q in questions]
    latencies, answered = [], 0
    started = None
    for i in range(WARMUP + n):
        if i == WARMUP:
            started = time.perf_counter()
        t0 = time.perf_counter()
        conn.request("POST", "/ask", body=bodies[i % len(bodies)], headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - t0
        if response.status != 200:
            raise SystemExit(f"/ask answered {response.status}: {body[:200]!r}")
        if i >= WARMUP:
            latencies.append(elapsed)
            answered += json.loads(body)["answered"]
    total = time.perf_counter() - started
    conn.close()
    return {"requests": n, **percentiles(latencies), "mean_ms": 1000 * float(np.mean(latencies)),
            "requests_per_second": n / total, "answered_share": answered / n}


def percentiles(seconds: list[float]) -> dict:
    """p50, p99 and max of request times, in ms (faq_replicas.py reports its requests with it too)."""
    ms = np.array(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max())}


def load_said(before, after, neighbours: str) -> str:
    """The docs' line on the machine's load around a run (os.getloadavg before and after, cpu_neighbours)."""
    return (f"Load average before / after: {', '.join(f'{x:.2f}' for x in before)} / "
            f"{', '.join(f'{x:.2f}' for x in after)};\nother busy processes at the start: {neighbours}.")


def cpu_neighbours() -> str:
    """Other busy processes now (the 2 cores are shared): for the record in the docs."""
    lines = subprocess.run(["ps", "-eo", "pid,pcpu,args", "--sort=-pcpu"], capture_output=True, text=True).stdout.splitlines()[1:]
    busy = [line.split(None, 1)[1].strip()[:90] for line in lines
            if float(line.split()[1]) >= 20 and int(line.split()[0]) != os.getpid()]
    return "; ".join(busy) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per bank (after 200 warm-up)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="bank sizes (entries)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "faq_load"), help="work folder")
    parser.add_argument("--build-only", action="store_true", help="build the banks (kept for a later timed run) and stop")
    parser.add_argument("--hybrid", type=float, nargs="+", default=[0.0], metavar="W",
                        help="the banks' hybrid weights to time (BM25 in the score; 0: the model alone)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = model_dir(out)
    asked = (read_groups(datasets.path("clinc150", "groups_test.tsv.gz"), normalize=False).sentences
             + read_sentences(datasets.path("clinc150", "oos_test.txt.gz"), normalize=False))
    asked = [asked[i] for i in np.random.default_rng(1).permutation(len(asked))]
    questions = bank_questions(max(args.sizes), {" ".join(q.split()) for q in asked})

    runs = [(size, "flat") for size in args.sizes] + [(max(args.sizes), "hnsw")]
    if args.build_only:
        for size, kind in runs:
            print(f"{size} {kind}: built in {build_bank(out / f'bank_{size}_{kind}.faq', model, questions[:size], kind)['seconds']:.0f}s")
        return
    results, rows = [], []
    load_before = os.getloadavg()
    neighbours = cpu_neighbours()
    for (size, kind), weight in ((run, weight) for run in runs for weight in args.hybrid):
        bank = out / f"bank_{size}_{kind}.faq"
        built = build_bank(bank, model, questions[:size], kind)
        with FaqBank.open_without_model(bank) as opened:  # the read-only server answers with it
            opened.set_settings(hybrid=weight)
        port = free_port()
        proc = start_server(bank, port)
        try:
            result = {"entries": size, "index": kind, "hybrid": weight, "build_seconds": round(built["seconds"], 1),
                      "build_load_average": built["load_average"][0],
                      **load_test(port, asked, args.requests)}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        results.append(result)
        print(json.dumps(result), flush=True)
        rows.append([f"{size:,}", kind, f"{weight:g}", f"{result['p50_ms']:.2f}", f"{result['p99_ms']:.2f}",
                     f"{result['requests_per_second']:.0f}", f"{result['build_seconds']:.0f}",
                     f"{result['build_load_average']:.1f}"])
    load_after = os.getloadavg()
    atomic_write_json(REPO / "docs" / "results" / "faq_load.json",
                      {"machine": machine(), "model": model, "results": results, "load_before": load_before,
                       "load_after": load_after, "other_busy_processes": neighbours})
    markdown = f"""## FAQ service load test

`python benchmarks/faq_load.py {' '.join(sys.argv[1:])}` ({machine()}). `samesense serve BANK --read-only` (uvicorn, 1 torch
thread) on 127.0.0.1; one client sends {WARMUP} warm-up and then {args.requests} timed `POST /ask`
requests (k=5) one after another on one keep-alive connection, cycling through CLINC150's test queries (in
scope and out of scope). Latency is measured by the client (request sent to response read). The banks hold
one question per entry: the distinct English sentences of the shared benchmark data (less the asked
queries), topped up with pairs of them joined. Build = import (encode every question, one SQLite transaction, index); banks are built
before the timed runs (`--build-only` builds them apart); other jobs on the shared 2 cores slow the build
(its load average is given), and the timed requests ran beside the busy processes named below. Target: p99 under 20 ms at 100,000 entries.
Hybrid: the bank's `hybrid` weight (BM25 over the stored questions fused with the cosine: samesense.lexical.hybrid;
0 is the model alone); its BM25 index is built at the first question (in the warm-up).

{table(["entries", "index", "hybrid", "p50 ms", "p99 ms", "requests/s", "build s", "load average during build"], rows)}

{load_said(load_before, load_after, neighbours)}
"""
    write_section("faq_load", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
