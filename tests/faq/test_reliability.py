"""Crashes and concurrency: a bulk import killed with SIGKILL, readers and writers at once, and
clients that connect and never finish a request."""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest

from conftest import TOKEN, running_server

from samesense.faq import FaqBank


def consistent(bank: FaqBank) -> None:
    assert bank.store.check() == "ok"
    assert sorted(bank.index.ids()) == sorted(bank.store.question_ids())
    orphans = bank.store.reader.execute(
        "SELECT COUNT(*) FROM questions WHERE entry_id NOT IN (SELECT id FROM entries)").fetchone()[0]
    empty = bank.store.reader.execute(
        "SELECT COUNT(*) FROM entries WHERE id NOT IN (SELECT entry_id FROM questions)").fetchone()[0]
    assert orphans == 0 and empty == 0


def test_kill_9_during_a_bulk_import_leaves_the_bank_as_it_was(trained_run, tmp_path):
    model = trained_run[0] / "model"
    bank_path = tmp_path / "bank.faq"
    with FaqBank.open(bank_path, model) as bank:
        bank.add("abcde", "first answer")
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    big = tmp_path / "big.tsv"
    big.write_text("".join(f"{''.join(rng.choice(letters, 8))}{i}\tanswer {i}\n" for i in range(40_000)))

    proc = subprocess.Popen([sys.executable, "-m", "samesense.cli", "faq", "import", str(bank_path), str(big),
                             "--progress"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    os.set_blocking(proc.stderr.fileno(), False)
    seen, deadline = b"", time.time() + 240
    while b"write:" not in seen and proc.poll() is None and time.time() < deadline:
        seen += proc.stderr.read() or b""  # tqdm's bar for the write transaction
        time.sleep(0.01)
    assert b"write:" in seen, seen.decode(errors="replace")[-2000:]
    time.sleep(0.2)  # well inside the transaction: 40,000 rows take seconds to write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with FaqBank.open(bank_path) as bank:  # the remembered model
        consistent(bank)
        assert bank.store.count() == (1, 1)  # the import is all or nothing
        assert bank.ask("abcde").answer == "first answer"
        bank.import_rows([])  # and the bank takes writes again
        bank.add("vwxyz", "second answer")
        consistent(bank)


def test_concurrent_http_readers_and_writers_lose_nothing(live_server, bank):
    writers, per_writer, errors = 4, 15, []
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def write(w):
        with httpx.Client(base_url=live_server, timeout=30) as client:
            for i in range(per_writer):
                r = client.post("/faq", json={"question": f"writer{w} question{i} special",
                                              "answer": f"answer {w}-{i}"}, headers=auth)
                if r.status_code != 201:
                    errors.append(r.text)
                if i % 5 == 4:  # edits and deletes too, of the writer's own entries
                    entry = r.json()["id"]
                    client.put(f"/faq/{entry}", json={"paraphrases": [f"w{w} p{i}"]}, headers=auth)

    def read(stop):
        with httpx.Client(base_url=live_server, timeout=30) as client:
            while not stop.is_set():
                r = client.post("/ask", json={"question": "how do i reset my pin"})
                if r.status_code != 200 or r.json()["answer"] != "Settings > Security > Reset PIN.":
                    errors.append(r.text)

    stop = threading.Event()
    readers = [threading.Thread(target=read, args=(stop,)) for _ in range(3)]
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert bank.store.count()[0] == 3 + writers * per_writer
    consistent(bank)
    with httpx.Client(base_url=live_server) as client:
        for w in range(writers):
            for i in range(per_writer):
                assert client.post("/ask", json={"question": f"writer{w} question{i} special"}).json()["answer"] == f"answer {w}-{i}"
            assert client.post("/ask", json={"question": f"w{w} p4"}).json()["answer"] == f"answer {w}-4"


def test_writes_from_other_processes_reach_a_running_server(trained_run, tmp_path):
    """Two processes add entries to the bank while a third (this one) answers from it."""
    model = trained_run[0] / "model"
    bank_path = tmp_path / "bank.faq"
    server_bank = FaqBank.open(bank_path, model)
    script = ("import sys; from samesense.faq import FaqBank\n"
              "b = FaqBank.open(sys.argv[1])\n"
              "for i in range(20): b.add(f'{sys.argv[2]}{i:02d}', f'{sys.argv[2]} answer {i}')\n"
              "b.close()\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(bank_path), prefix],
                              env={**os.environ, "OMP_NUM_THREADS": "1"}) for prefix in ("abc", "xyz")]
    while any(p.poll() is None for p in procs):
        server_bank.ask("abc00")  # reads go on, and sync with the writers as they commit
        time.sleep(0.01)
    assert [p.returncode for p in procs] == [0, 0]
    found = server_bank.ask("xyz07", k=10).candidates  # written by another process, found by this one
    assert any(c.question == "xyz07" and c.answer == "xyz answer 7" for c in found)
    assert server_bank.store.count()[0] == 40
    consistent(server_bank)
    server_bank.close()


TIMEOUT = 1.0  # the server's --timeout in these tests


@pytest.fixture
def strict_server(bank):
    """The app on uvicorn as `samesense serve` runs it (server_settings), with a 1 s timeout and at
    most 3 connections: yields (host, port)."""
    from samesense.faq.serve import create_app, server_settings

    with running_server(create_app(bank, TOKEN), **server_settings(timeout=TIMEOUT, max_connections=3)) as address:
        yield address


def seconds_until_closed(sock: socket.socket, trickle: bytes = b"", limit: float = 10.0) -> float:
    """Seconds until the server closes `sock`, sending a byte of `trickle` every 0.2 s meanwhile."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if trickle:
            sock.send(trickle[:1])
            trickle = trickle[1:]
        if select.select([sock], [], [], 0.2)[0] and sock.recv(65536) == b"":
            return time.perf_counter() - started
    raise AssertionError(f"the connection was still open after {limit} s")


def test_idle_and_slow_clients_are_disconnected_after_the_timeout(strict_server):
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(strict_server) as silent:  # connects, sends nothing
        assert seconds_until_closed(silent) < TIMEOUT + 1
    with socket.create_connection(strict_server) as trickling:  # a header byte every 0.2 s, for ever
        assert seconds_until_closed(trickling, trickle=b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100) < TIMEOUT + 1
    with socket.create_connection(strict_server) as slow_body:  # headers, then too little of the body
        slow_body.sendall(b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 30\r\n\r\n{\"question\": ")
        assert seconds_until_closed(slow_body) < TIMEOUT + 1
    with socket.create_connection(strict_server) as keep_alive:  # answered, then idle
        keep_alive.sendall(request)
        assert keep_alive.recv(65536).startswith(b"HTTP/1.1 200")
        assert seconds_until_closed(keep_alive) < TIMEOUT + 1


def test_a_prompt_client_is_answered_whatever_the_timeout(strict_server):
    host, port = strict_server
    with httpx.Client(base_url=f"http://{host}:{port}") as client:  # one keep-alive connection
        for _ in range(3):
            assert client.post("/ask", json={"question": "when are you open"}).status_code == 200
            time.sleep(TIMEOUT / 2)  # within the timeout, the connection stays


def test_requests_beyond_max_connections_are_answered_503(strict_server):
    host, port = strict_server
    idle = [socket.create_connection(strict_server) for _ in range(2)]
    try:
        time.sleep(0.1)
        assert httpx.get(f"http://{host}:{port}/healthz").status_code == 503  # the third connection
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.2)
    assert httpx.get(f"http://{host}:{port}/healthz").status_code == 200


def test_what_uvicorn_answers_itself_is_json_with_the_security_headers(strict_server):
    """Issue 36: the 503 of --max-connections and the 400 of a request HTTP cannot parse were
    uvicorn's plain text, without the headers every other response carries."""
    host, port = strict_server
    idle = [socket.create_connection(strict_server) for _ in range(2)]
    try:
        time.sleep(0.1)
        full = httpx.get(f"http://{host}:{port}/healthz")  # the third connection
    finally:
        for sock in idle:
            sock.close()
    assert full.status_code == 503 and int(full.headers["retry-after"]) > 0
    assert full.json() == {"detail": "more requests at once than the server takes (--max-connections); try again "
                                     "later"}
    time.sleep(0.2)
    with socket.create_connection(strict_server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["detail"].startswith("malformed HTTP request")
    for response_head in (head.decode().lower(), "\r\n".join(f"{k}: {v}" for k, v in full.headers.items()).lower()):
        for header in ("content-type: application/json", "x-frame-options: deny", "x-content-type-options: nosniff",
                       "referrer-policy: no-referrer", "content-security-policy: default-src 'self'"):
            assert header in response_head, (header, response_head)
