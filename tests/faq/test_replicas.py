"""Two `samesense serve` processes over one PostgreSQL bank, as behind a load balancer: writers on
both, every acknowledged write answered by both within a second; one replica killed with SIGKILL
under writes; the database stopped and started again under load. Real processes, a real cluster."""

import signal
import threading
import time

import httpx
import numpy as np
import pytest

from pg_cluster import ready, replicas

from samesense.faq import FaqBank

TOKEN = "replica-test-token-0123456789"  # serve wants 16 characters at least
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VISIBLE_WITHIN = 1.0  # seconds from a write's acknowledgement to every replica answering it


@pytest.fixture(scope="module")
def replica_bank(pg_cluster, trained_run):
    """A PostgreSQL bank with one entry, by the trained model: (address, model folder)."""
    model = trained_run[0] / "model"
    address = pg_cluster.new_database()
    with FaqBank.open(address, model) as bank:
        bank.add("seed question", "seed answer")
    return address, model


@pytest.fixture(scope="module")
def pair(replica_bank, tmp_path_factory):
    """Two replicas on the bank, for the module's tests (a replica takes seconds to start): their URLs."""
    with replicas(*replica_bank, TOKEN, tmp_path_factory.mktemp("replicas")) as (urls, _):
        yield urls


def wait_until(condition, seconds: float, what: str, proc=None) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert proc is None or proc.poll() is None, f"the process waited on for {what} exited"
        assert time.time() < deadline, f"not {what} within {seconds} s"
        time.sleep(0.05)


def answers_entry(client: httpx.Client, url: str, question: str, entry_id: int) -> bool:
    """Whether the replica at `url` finds the entry (GET) and answers the question with it."""
    if client.get(f"{url}/faq/{entry_id}").status_code != 200:
        return False
    found = client.post(f"{url}/ask", json={"question": question, "k": 3}).json()
    return bool(found["candidates"]) and found["candidates"][0]["entry_id"] == entry_id


def random_question(rng) -> str:
    return "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 10)) + f" {rng.integers(10**6)}"


class Writers:
    """Threads adding entries through the replicas until stopped: what each acknowledged (201), and
    every status that is neither 201 nor a refused connection. With `watch`, each writer then asks
    every replica until it answers the new entry: `visible` holds the seconds from acknowledgement
    until the last replica did (None: not within 5 s)."""

    def __init__(self, urls, per_replica: int = 2, seed: int = 0, watch: bool = False):
        self.urls, self.watch = urls, watch
        self.acknowledged: list[tuple[int, str, str, float]] = []  # (entry id, question, answer, when)
        self.visible: list[float | None] = []
        self.statuses: list[int] = []
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self.write, args=(url, seed * 100 + n * 10 + i))
                        for n, url in enumerate(urls) for i in range(per_replica)]

    def write(self, url: str, seed: int) -> None:
        rng = np.random.default_rng(seed)
        with httpx.Client(timeout=30, headers=AUTH) as client:
            while not self.stop.is_set():
                question = random_question(rng)
                answer = f"answer to {question}"
                try:
                    r = client.post(f"{url}/faq", json={"question": question, "answer": answer})
                except httpx.TransportError:  # the replica is gone: nothing acknowledged
                    time.sleep(0.05)
                    continue
                acknowledged = time.perf_counter()
                with self.lock:
                    if r.status_code == 201:
                        self.acknowledged.append((r.json()["id"], question, answer, acknowledged))
                    else:
                        self.statuses.append(r.status_code)
                if self.watch and r.status_code == 201:
                    self.visible.append(self.seconds_until_answered(client, question, r.json()["id"], acknowledged))
                time.sleep(0.02)

    def seconds_until_answered(self, client, question: str, entry_id: int, since: float) -> float | None:
        for url in self.urls:
            while not answers_entry(client, url, question, entry_id):
                if time.perf_counter() - since > 5:
                    return None
                time.sleep(0.005)
        return time.perf_counter() - since

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def test_every_write_acknowledged_by_either_replica_is_answered_by_both_within_a_second(pair):
    urls = pair
    with httpx.Client(timeout=30) as client:
        with Writers(urls, watch=True) as writers:  # two writers on each replica, at once
            wait_until(lambda: len(writers.visible) >= 40, 120, "40 writes watched")
        assert writers.statuses == []
        late = [s for s in writers.visible if s is None or s > VISIBLE_WITHIN]
        assert late == [], f"{len(late)} of {len(writers.visible)} writes answered after {VISIBLE_WITHIN} s: {late}"
        ids = [entry for entry, *_ in writers.acknowledged]
        assert len(set(ids)) == len(ids)  # one id an entry, whichever replica wrote it
        for entry_id, question, _, _ in writers.acknowledged:
            assert all(answers_entry(client, url, question, entry_id) for url in urls)


def test_kill_9_of_one_replica_under_writes_loses_nothing_acknowledged(replica_bank, pair, tmp_path):
    address, model = replica_bank
    with replicas(address, model, TOKEN, tmp_path, count=1) as (extra, procs), httpx.Client(timeout=30) as client:
        urls = [extra[0], pair[1]]  # a third replica, killed; the pair's second writes and answers throughout
        survivor_answers: list[int] = []
        stop = threading.Event()

        def read():
            with httpx.Client(timeout=30) as reader:
                while not stop.is_set():
                    survivor_answers.append(reader.post(f"{urls[1]}/ask", json={"question": "seed question"})
                                            .status_code)

        reader = threading.Thread(target=read)
        reader.start()
        with Writers(urls, seed=1) as writers:
            wait_until(lambda: len(writers.acknowledged) >= 10, 60, "10 writes acknowledged")
            procs[0].send_signal(signal.SIGKILL)  # in the middle of its writers' requests
            procs[0].wait()
            before = len(writers.acknowledged)
            wait_until(lambda: len(writers.acknowledged) >= before + 10, 60, "10 more writes through the other")
        stop.set()
        reader.join()
        assert procs[0].returncode == -signal.SIGKILL
        assert writers.statuses == [] and set(survivor_answers) == {200}
        for entry_id, question, _, _ in writers.acknowledged:
            assert all(answers_entry(client, url, question, entry_id) for url in pair), entry_id
    with FaqBank.open(address, model) as bank:
        assert bank.store.count()[0] >= 1 + len(writers.acknowledged)
        assert sorted(bank.index.ids()) == sorted(bank.store.question_ids())


def test_the_database_restarted_under_load_replicas_go_not_ready_reconnect_and_catch_up(pair, pg_cluster):
    urls = pair
    with httpx.Client(timeout=30) as client:
        asked: list[int] = []
        stop = threading.Event()

        def read(url):
            with httpx.Client(timeout=30) as reader:
                while not stop.is_set():
                    asked.append(reader.post(f"{url}/ask", json={"question": "seed question"}).status_code)
                    time.sleep(0.01)

        readers = [threading.Thread(target=read, args=(url,)) for url in urls]
        for t in readers:
            t.start()
        try:
            with Writers(urls, per_replica=1, seed=2) as writers:
                wait_until(lambda: len(writers.acknowledged) >= 6, 60, "6 writes acknowledged")
                pg_cluster.stop()
                try:
                    wait_until(lambda: all(client.get(f"{u}/healthz").status_code == 503 for u in urls), 10,
                               "both replicas not ready")
                    down = client.get(f"{urls[0]}/healthz").json()
                    assert down["ready"] is False and "database" in down["detail"]
                    assert client.post(f"{urls[1]}/ask", json={"question": "seed question"}).status_code == 503
                finally:
                    pg_cluster.start()
                wait_until(lambda: all(ready(u) for u in urls), 30, "both replicas ready again")
                before = len(writers.acknowledged)
                wait_until(lambda: len(writers.acknowledged) >= before + 6, 60, "6 more writes acknowledged")
        finally:
            stop.set()
            for t in readers:
                t.join()
        assert 500 not in asked + writers.statuses
        assert set(asked + writers.statuses) <= {200, 503}
        for entry_id, question, _, _ in writers.acknowledged:  # caught up: both answer every write, old and new
            assert all(answers_entry(client, url, question, entry_id) for url in urls), entry_id
