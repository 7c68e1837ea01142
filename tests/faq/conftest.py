import socket
import threading
import time
from contextlib import contextmanager

import pytest

from fakes import WordModel

from samesense.faq import FaqBank

FAQ = [
    ("how do i reset my pin", "Settings > Security > Reset PIN.", ["i forgot my pin code"]),
    ("what are your opening hours", "Monday to Friday, 9 to 5.", ["when are you open"]),
    ("how do i close my account", "Write to support and we close it within a day.", []),
]


@pytest.fixture
def model():
    return WordModel()


@pytest.fixture
def bank(tmp_path, model):
    """A small bank of three entries over the fake model."""
    bank = FaqBank.open(tmp_path / "bank.faq", model)
    for question, answer, paraphrases in FAQ:
        bank.add(question, answer, paraphrases=paraphrases)
    yield bank
    bank.close()


def labelled_questions(tmp_path):
    """A groups file of questions labelled with the groups of CALIBRATION_ROWS, and out-of-scope ones."""
    groups = tmp_path / "groups.tsv"
    groups.write_text("pin\treset my pin please\nhours\topening hours\nclose\tclose account now\n"
                      "pin\tmy account pin\n")
    oos = tmp_path / "oos.txt"
    oos.write_text("what is the weather\nmy account is great\n")
    return groups, oos


CALIBRATION_ROWS = [("reset my pin", "A", "pin"), ("opening hours today", "B", "hours"),
                    ("close my account", "C", "close")]

TOKEN = "test-token"


@contextmanager
def running_server(app, **settings):
    """`app` on uvicorn in a thread, on a free port of 127.0.0.1: yields (host, port)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def served(app):
    """`app` on uvicorn in a thread, quiet: yields its base URL."""
    with running_server(app, log_level="warning", access_log=False) as (host, port):
        yield f"http://{host}:{port}"


@pytest.fixture
def live_server(bank):
    """The app on uvicorn in a thread: yields its base URL."""
    from samesense.faq.serve import create_app

    with served(create_app(bank, TOKEN)) as url:
        yield url


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster (pg_cluster.py) for the session; skipped, saying why, where
    PostgreSQL is not installed."""
    from pg_cluster import PgCluster, missing_reason

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with PgCluster.started() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster):
    """The address of a new, empty database in the session's cluster."""
    return pg_cluster.new_database()
