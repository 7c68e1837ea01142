"""A bank in PostgreSQL: the dialect's SQL, the unanswered log's tables beside the bank, migrate
between SQLite and PostgreSQL, the password kept out of every message, a replica following another's
writes (LISTEN/NOTIFY) and refused at write when the bank moved to another model. Real PostgreSQL:
a throwaway cluster (conftest.pg_cluster)."""

import json
import time

import pytest
from fastapi.testclient import TestClient

from conftest import FAQ, TOKEN
from fakes import WordModel

from samesense.cli import main
from samesense.errors import BankUnavailable, SamesenseError
from samesense.faq import FaqBank
from samesense.faq.follower import ChangeFollower
from samesense.faq.migrate import migrate
from samesense.faq.postgres import to_pyformat
from samesense.faq.serve import create_app
from samesense.faq.unanswered import UnansweredLog

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ASKED = ["i forgot my pin code", "when are you open", "close my account", "reset pin", "zebra giraffe"]


def test_placeholders_become_psycopg_s_and_literals_stay_as_they_are():
    assert to_pyformat("SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\'") == \
        "SELECT a FROM t WHERE b = %s AND c ILIKE %s ESCAPE '\\'"
    assert to_pyformat("SELECT '50% ?', x % 2 FROM t WHERE y = ?") == "SELECT '50%% ?', x %% 2 FROM t WHERE y = %s"


def test_the_unanswered_log_lives_in_the_banks_database(pg_url, model):
    with FaqBank.open(pg_url, model) as bank, UnansweredLog(UnansweredLog.path_for(pg_url)) as log:
        bank.add(*FAQ[0][:2])
        assert log.record(bank.ask("zebra giraffe"), margin=0.02)
        assert [q.question for q in log.questions()] == ["zebra giraffe"]
        tables = {r[0] for r in bank.store.reader.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall()}
    assert {"entries", "questions", "settings", "asked"} <= tables
    with UnansweredLog(UnansweredLog.path_for(pg_url), create=False) as log:  # another process reads it
        assert log.count() == (1, 1)


def answers(bank: FaqBank) -> list[tuple]:
    return [(a.answered, a.answer, a.entry_id, a.score) for a in (bank.ask(q) for q in ASKED)]


def test_migrate_sqlite_to_postgresql_to_sqlite_gives_the_same_answers(pg_url, bank, model, tmp_path):
    bank.delete(bank.add("a question deleted before the copy", "gone").id)  # its ids must never come back
    expected = answers(bank)
    bank.close()
    assert migrate(bank.path, pg_url).entries == 3
    back = tmp_path / "back.faq"
    assert main(["faq", "migrate", pg_url, str(back)]) == 0
    for address in (pg_url, back):
        with FaqBank.open(address, model) as copy:
            assert copy.store.count() == (3, 5)
            assert answers(copy) == expected
            assert copy.add("a new question after the copy", "new").id == 5  # ids go on past the deleted one
    with pytest.raises(SamesenseError, match="already holds 4 entries"):
        migrate(back, pg_url)


def test_the_password_is_in_no_message_and_not_on_healthz(pg_cluster, model, capsys):
    url = pg_cluster.new_database(password="hunter2-secret")
    with FaqBank.open(url, model) as bank:
        bank.add(*FAQ[0][:2])
        health = TestClient(create_app(bank, TOKEN)).get("/healthz").json()
        assert health["bank"] == f"postgresql://127.0.0.1:{pg_cluster.port}/{url.rsplit('/', 1)[1]}"
        assert "hunter2" not in json.dumps(health) + json.dumps(bank.info()) + str(bank.path)
    assert main(["faq", "info", url]) == 0
    assert main(["faq", "list", url.replace(str(pg_cluster.port), "1")]) == 2  # no server there
    out = capsys.readouterr()
    assert "cannot connect" in out.err and "hunter2" not in out.out + out.err


def test_a_replica_follows_writes_made_through_another_without_being_asked(pg_url, model):
    with FaqBank.open(pg_url, model) as writer, FaqBank.open(pg_url, WordModel()) as replica:
        follower = ChangeFollower(replica, poll=2.0).start()  # polls rarely (1 s < 2 s): the NOTIFY is what it hears
        try:
            deadline = time.time() + 10
            while follower.not_ready() and time.time() < deadline:
                time.sleep(0.01)
            assert follower.not_ready() is None
            entry = writer.add("how do i change my address", "Profile > Address.")
            acknowledged = time.perf_counter()
            while len(replica.index) < 1 and time.perf_counter() - acknowledged < 1.0:
                time.sleep(0.005)
            assert len(replica.index) == 1  # its index has the question before any question was asked
            assert replica.ask("how do i change my address").entry_id == entry.id
        finally:
            follower.close()


def test_a_replica_whose_model_the_bank_no_longer_uses_is_refused_at_write_and_not_ready(pg_url, model):
    old = FaqBank.open(pg_url, model)
    old.add(*FAQ[0][:2])
    follower = ChangeFollower(old).start()
    client = TestClient(create_app(old, TOKEN, follower=follower))
    try:
        deadline = time.time() + 10
        while client.get("/healthz").status_code != 200 and time.time() < deadline:
            time.sleep(0.02)
        assert client.get("/healthz").json()["ready"] is True
        with FaqBank.open(pg_url, WordModel(fingerprint="fake-model-2")):  # re-encodes the bank for its model
            pass
        with pytest.raises(SamesenseError, match="the bank's vectors were made by model fake-model-2"):
            old.add("what is my balance", "See the app.")
        refused = client.post("/faq", json={"question": "what is my balance", "answer": "x"}, headers=AUTH)
        assert refused.status_code == 422 and "fake-model-2" in refused.json()["detail"]
        while client.get("/healthz").status_code != 503 and time.time() < deadline:
            time.sleep(0.02)
        health = client.get("/healthz")
        assert health.status_code == 503 and "fake-model-2" in health.json()["detail"]
        assert client.post("/ask", json={"question": FAQ[0][0]}).status_code == 503  # never the stale model
        assert old.store.count() == (1, 1)  # the refused write left nothing
    finally:
        follower.close()
        old.close()


def test_a_database_that_cannot_be_reached_is_a_503_and_the_bank_reconnects(pg_cluster, model):
    url = pg_cluster.new_database()
    bank = FaqBank.open(url, model)
    bank.add(*FAQ[0][:2])
    client = TestClient(create_app(bank, TOKEN), raise_server_exceptions=False)
    name = url.rsplit("/", 1)[1]
    with _admin(pg_cluster) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        try:
            for _ in range(2):  # the dropped connection, then a refused one
                r = client.post("/ask", json={"question": FAQ[0][0]})
                assert r.status_code == 503 and r.headers["Retry-After"], r.text
            with pytest.raises(BankUnavailable):
                bank.add("what is my balance", "See the app.")
        finally:
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    assert client.post("/ask", json={"question": FAQ[0][0]}).json()["answer"] == FAQ[0][1]
    assert bank.add("what is my balance", "See the app.").id == 2
    bank.close()


def _admin(cluster):
    import psycopg

    return psycopg.connect(cluster.url(), autocommit=True)


def test_what_the_address_leaves_out_comes_from_the_pg_environment_variables(pg_cluster, model, monkeypatch):
    url = pg_cluster.new_database()
    with FaqBank.open(url, model) as bank:
        bank.add(*FAQ[0][:2])
    for variable, value in (("PGHOST", "127.0.0.1"), ("PGPORT", str(pg_cluster.port)), ("PGUSER", "postgres")):
        monkeypatch.setenv(variable, value)
    with FaqBank.open(f"postgresql:///{url.rsplit('/', 1)[1]}", model) as bank:  # libpq fills in host, port, user
        assert bank.ask(FAQ[0][0]).answer == FAQ[0][1]


def test_a_replica_follows_adds_edits_and_deletes_by_another_to_the_same_questions(pg_url, model):
    with FaqBank.open(pg_url, model) as writer, FaqBank.open(pg_url, WordModel()) as replica:
        follower = ChangeFollower(replica, poll=0.05).start()
        try:
            kept = writer.add("how do i change my address", "Profile > Address.", paraphrases=["new address"])
            gone = writer.add("what is my balance", "See the app.")
            writer.update(kept.id, paraphrases=["i moved house"])  # a question's row replaced
            writer.delete(gone.id)
            writer.add("where is my card", "In the post.")
            deadline = time.time() + 5
            while sorted(replica.index.ids()) != sorted(writer.store.question_ids()) and time.time() < deadline:
                time.sleep(0.01)
            assert sorted(replica.index.ids()) == sorted(writer.store.question_ids())
            assert replica.ask("i moved house").entry_id == kept.id
        finally:
            follower.close()
