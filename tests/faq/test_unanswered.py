"""The unanswered-questions log: what is recorded, grouped, bounded and kept; where it lives (a
read-only server writes it, never the bank); the `faq unanswered` command and GET /unanswered."""

import hashlib
import json
import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq import FaqBank
from samesense.faq.matcher import Answer, Candidate
from samesense.faq.serve import create_app
from samesense.faq.unanswered import UnansweredLog, grouping_key, outcome_of

TOKEN = "unanswered-test-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def log_path(bank):
    return UnansweredLog.path_for(bank.path)


@pytest.fixture
def log(log_path):
    with UnansweredLog(log_path) as log:
        yield log


def answered(score: float, runner_up: float | None = None, threshold: float = 0.6) -> Answer:
    """An answer with `score`, and another entry with another answer at `runner_up`."""
    best = Candidate(1, "how do i reset my pin", "Settings > Security.", score)
    others = [Candidate(2, "how do i reset my password", "Use the login page.", runner_up)] if runner_up else []
    return Answer("reset pin", True, threshold, best.answer, 1, best.question, score, candidates=[best, *others])


def test_abstentions_and_narrow_answers_are_recorded_clear_answers_are_not(bank, log):
    assert outcome_of(answered(0.95, runner_up=0.5), margin=0.02) is None  # clear
    assert outcome_of(answered(0.61), margin=0.02) == "narrow"  # a threshold 0.02 higher would withhold it
    assert outcome_of(answered(0.95, runner_up=0.92), margin=0.02) == "narrow"  # a margin twice as wide would
    assert outcome_of(answered(0.95, runner_up=0.94), margin=0.0) is None

    assert log.record(bank.ask("zebra giraffe"), margin=0.02)
    assert not log.record(bank.ask("when are you open"), margin=0.02)
    assert log.record(answered(0.61), margin=0.02)
    (abstained,) = log.questions()
    assert abstained.question == "zebra giraffe" and abstained.outcome == "abstained" and abstained.count == 1
    assert abstained.reason.startswith("below threshold") and abstained.nearest
    assert set(abstained.nearest[0]) == {"entry_id", "question", "score"}  # no answers kept
    assert [q.outcome for q in log.questions(outcome="narrow")] == ["narrow"]
    assert log.count(outcome="all") == (2, 2)


def test_identical_questions_are_grouped_most_asked_first(bank, log):
    asked = ["Zebra giraffe?", "zebra  GIRAFFE", "where is the moon", "zebra, giraffe!", "where is the moon?",
             "pink elephants"]
    for question in asked:
        log.record(bank.ask(question), margin=0.02)
        time.sleep(0.002)  # distinct times, so "newest" has an order to show
    assert grouping_key("Zebra, giraffe!") == grouping_key("zebra giraffe") == "zebra giraffe"

    most_asked = log.questions()
    assert [(q.question, q.count) for q in most_asked] == [
        ("zebra, giraffe!", 3), ("where is the moon?", 2), ("pink elephants", 1)]  # the latest wording
    assert most_asked[0].first_asked < most_asked[0].last_asked
    assert [q.question for q in log.questions(order="newest")] == [
        "pink elephants", "where is the moon?", "zebra, giraffe!"]
    assert [q.question for q in log.questions(offset=1, limit=1)] == ["where is the moon?"]
    assert log.count() == (3, 6)
    assert log.questions(since=time.time() + 60) == [] and log.count(since=time.time() + 60) == (0, 0)


def test_the_log_keeps_at_most_its_rows_dropping_the_oldest(bank, log_path):
    with UnansweredLog(log_path, keep=3) as log:
        for i in range(7):
            log.record(bank.ask(f"unknown question number{i}"), margin=0.02)
        assert log.count() == (3, 3)
        assert {q.question for q in log.questions()} == {f"unknown question number{i}" for i in (4, 5, 6)}


def test_records_are_kept_across_reopens_and_writers(bank, log_path):
    with UnansweredLog(log_path) as one, UnansweredLog(log_path) as two:  # two servers on one log
        one.record(bank.ask("zebra giraffe"), margin=0.02)
        two.record(bank.ask("zebra giraffe"), margin=0.02)
    with UnansweredLog(log_path, create=False) as again:
        assert [(q.question, q.count) for q in again.questions()] == [("zebra giraffe", 2)]


def test_a_file_that_is_not_an_unanswered_log_is_refused_and_left_alone(bank, tmp_path):
    before = hashlib.sha256(bank.path.read_bytes()).hexdigest()
    with pytest.raises(SamesenseError, match="cannot use it as the unanswered-questions log"):
        UnansweredLog(bank.path)  # the bank named by mistake
    assert hashlib.sha256(bank.path.read_bytes()).hexdigest() == before
    (tmp_path / "text.unanswered").write_text("not a database at all, just some text here" * 10)
    with pytest.raises(SamesenseError, match="cannot use it"):
        UnansweredLog(tmp_path / "text.unanswered")
    with pytest.raises(SamesenseError, match="no unanswered-questions log"):
        UnansweredLog(tmp_path / "missing.unanswered", create=False)
    assert not (tmp_path / "missing.unanswered").exists()


def test_a_read_only_server_records_questions_but_never_writes_the_bank(bank, model, log_path):
    bank.close()
    files = sorted(bank.path.parent.glob("bank.faq*"))
    before = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    with FaqBank.open(bank.path, model, read_only=True) as read_only, UnansweredLog(log_path) as log:
        with TestClient(create_app(read_only, None, unanswered=log)) as client:
            assert not client.post("/ask", json={"question": "zebra giraffe"}).json()["answered"]
            assert client.post("/ask", json={"question": "when are you open"}).json()["answered"]
        assert [q.question for q in log.questions()] == ["zebra giraffe"]
    after = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert after == before
    assert log_path.name == "bank.faq.unanswered" and log_path.parent == bank.path.parent


def test_a_record_that_cannot_be_written_is_a_warning_not_a_failed_answer(bank, log, monkeypatch, caplog):
    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(log.store, "add", locked)
    with TestClient(create_app(bank, TOKEN, unanswered=log)) as client:
        r = client.post("/ask", json={"question": "zebra giraffe"})
    assert r.status_code == 200 and not r.json()["answered"]
    assert any(rec.levelname == "WARNING" and "database is locked" in rec.getMessage() for rec in caplog.records)


def test_get_unanswered_needs_the_token_and_pages(bank, log):
    for question in ["zebra giraffe", "zebra giraffe", "where is the moon", "pink elephants"]:
        log.record(bank.ask(question), margin=0.02)
    with TestClient(create_app(bank, TOKEN, unanswered=log)) as client:
        assert client.get("/unanswered").status_code == 401
        assert client.get("/unanswered", headers={"Authorization": "Bearer wrong"}).status_code == 401
        body = client.get("/unanswered", params={"limit": 2}, headers=AUTH).json()
        assert body["recording"] and (body["total"], body["asks"]) == (3, 4)
        assert [(q["question"], q["count"]) for q in body["questions"]] == [("zebra giraffe", 2), ("pink elephants", 1)]
        page_two = client.get("/unanswered", params={"limit": 2, "offset": 2}, headers=AUTH).json()["questions"]
        assert [q["question"] for q in page_two] == ["where is the moon"]
        newest = client.get("/unanswered", params={"order": "newest", "since": 0}, headers=AUTH).json()["questions"]
        assert newest[0]["question"] == "pink elephants"
        for bad in [{"limit": 1001}, {"limit": 0}, {"offset": -1}, {"since": "nan"}, {"order": "oldest"},
                    {"outcome": "answered"}]:
            assert client.get("/unanswered", params=bad, headers=AUTH).status_code == 422, bad
    with TestClient(create_app(bank, TOKEN)) as client:  # a server that records nothing says so
        assert client.get("/unanswered", headers=AUTH).json() == {"recording": False, "total": 0, "asks": 0,
                                                                  "questions": []}
    with TestClient(create_app(bank, None, unanswered=log)) as client:  # no token: no way to read it over HTTP
        r = client.get("/unanswered", headers=AUTH)
        assert r.status_code == 403 and "no token" in r.json()["detail"]


def test_faq_unanswered_command_lists_grouped_questions(bank, log, capsys):
    for question in ["zebra giraffe", "Zebra giraffe?", "where is the moon"]:
        log.record(bank.ask(question), margin=0.02)
    assert main(["faq", "unanswered", str(bank.path), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["question"], r["count"]) for r in rows] == [("Zebra giraffe?", 2), ("where is the moon", 1)]

    assert main(["faq", "unanswered", str(bank.path), "--since", "7d", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 distinct questions (abstained, open), asked 3 times since ") and "most asked first" in out
    assert "Zebra giraffe?" in out and "below threshold" in out and "where is the moon" not in out
    assert main(["faq", "unanswered", str(bank.path), "--since", "2999-01-01", "--json"]) == 0
    assert capsys.readouterr().out == ""

    assert main(["faq", "unanswered", str(bank.path) + ".other"]) == 2
    assert capsys.readouterr().err.startswith("samesense: error: ")
    with pytest.raises(SystemExit) as exit_:
        main(["faq", "unanswered", str(bank.path), "--since", "last tuesday"])
    assert exit_.value.code == 2
    assert "--since: 'last tuesday' is not a date, a time or a span" in capsys.readouterr().err


def test_ask_records_only_with_record(trained_run, tmp_path, capsys):
    bank_path = tmp_path / "bank.faq"
    with FaqBank.open(bank_path, trained_run[0] / "model") as bank:
        bank.add("abcde fghij", "an answer")
        bank.set_settings(threshold=0.999)
    assert main(["ask", str(bank_path), "qqq zzz"]) == 0
    assert not UnansweredLog.path_for(bank_path).exists()  # a test tool: nothing kept by default
    assert main(["ask", str(bank_path), "qqq zzz", "--record"]) == 0
    capsys.readouterr()
    with UnansweredLog(UnansweredLog.path_for(bank_path), create=False) as log:
        assert [q.question for q in log.questions()] == ["qqq zzz"]
