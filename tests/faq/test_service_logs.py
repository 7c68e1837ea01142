"""The service's logs (access and application, uvicorn's in the same format), what they never hold,
and how `samesense serve` starts: logs, the unanswered-questions log, a port in use."""

import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from conftest import TOKEN, running_server

from samesense.cli import main
from samesense.errors import SamesenseError
from samesense.faq import FaqBank, logs
from samesense.faq.serve import create_app, serve, server_settings


@pytest.fixture
def restore_loggers():
    """logs.configure changes process-wide loggers: put them back for the tests that follow."""
    saved = {name: (lg.handlers[:], lg.level, lg.propagate)
             for name in logs.LOGGERS for lg in [logging.getLogger(name)]}
    yield
    for name, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(name)
        for handler in lg.handlers:
            if handler not in handlers:
                handler.close()
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_access_and_uvicorn_logs_share_one_json_format(bank, tmp_path, restore_loggers, monkeypatch):
    log_file = tmp_path / "service.log"
    logs.configure("info", "json", str(log_file))

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    with running_server(create_app(bank, TOKEN), **server_settings(log_level="info")) as (host, port):
        base = f"http://{host}:{port}"
        assert httpx.post(base + "/ask", json={"question": "when are you open"}).status_code == 200
        assert httpx.get(base + "/faq/999").status_code == 404
        monkeypatch.setattr(bank, "list_entries", broken)
        assert httpx.get(base + "/faq").status_code == 500
    found = records(log_file)
    assert {r["logger"] for r in found} >= {"samesense.access", "uvicorn.error"}  # one handler, one format
    assert all({"time", "level", "logger", "message"} <= set(r) for r in found)
    access = [r for r in found if r["logger"] == "samesense.access"]
    assert [(r["method"], r["route"], r["path"], r["status"]) for r in access] == [
        ("POST", "/ask", "/ask", 200), ("GET", "/faq/{entry_id}", "/faq/999", 404), ("GET", "/faq", "/faq", 500)]
    assert all(r["duration_ms"] >= 0 and r["client"].startswith("127.0.0.1:") for r in access)
    fault = next(r for r in found if "exception" in r)
    assert fault["level"] == "error" and "RuntimeError: disk on fire" in fault["exception"]


def test_logs_never_hold_the_token_the_query_or_the_bodies(bank, tmp_path, restore_loggers):
    log_file = tmp_path / "service.log"
    logs.configure("debug", "text", str(log_file))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with running_server(create_app(bank, TOKEN), **server_settings(log_level="debug")) as (host, port):
        base = f"http://{host}:{port}"
        httpx.post(base + "/faq", json={"question": "secret question text", "answer": "secret answer text"},
                   headers=auth)
        httpx.get(base + "/faq", params={"contains": "private filter text"}, headers=auth)
        httpx.post(base + "/faq", json={"question": "q", "answer": "a"},
                   headers={"Authorization": "Bearer wrong-token"})
        httpx.post(base + "/ask", json={"question": "when are you open"})
    text = log_file.read_text(encoding="utf-8")
    assert '"POST /faq" 201' in text and '"POST /faq" 401' in text and '"GET /faq" 200' in text
    for secret in (TOKEN, "wrong-token", "secret answer text", "private filter text", "Monday to Friday"):
        assert secret not in text, secret


def test_a_refused_request_at_debug_logs_its_reason_but_not_its_text(bank, tmp_path, restore_loggers):
    """Issue 36: --log-level debug wrote a refused question's text into the log (the bank's message
    quotes it). The promise holds at every level: never a query or a body."""
    log_file = tmp_path / "service.log"
    logs.configure("debug", "text", str(log_file))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with running_server(create_app(bank, TOKEN), **server_settings(log_level="debug")) as (host, port):
        base = f"http://{host}:{port}"
        held = httpx.post(base + "/faq", json={"question": "when are you open", "answer": "another secret answer"},
                          headers=auth)
        assert held.status_code == 409 and "when are you open" in held.json()["detail"]
        missing = httpx.put(base + "/faq/999", json={"question": "a secret change"}, headers=auth)
        assert missing.status_code == 404
    text = log_file.read_text(encoding="utf-8")
    assert '"POST /faq" 409' in text and "refused POST /faq: HeldByAnotherEntry (409)" in text
    for secret in ("when are you open", "another secret answer", "a secret change"):
        assert secret not in text, secret


def test_the_log_level_leaves_out_what_is_below_it(bank, tmp_path, restore_loggers):
    log_file = tmp_path / "service.log"
    logs.configure("warning", "json", str(log_file))
    with running_server(create_app(bank, TOKEN), **server_settings(log_level="warning")) as (host, port):
        assert httpx.get(f"http://{host}:{port}/healthz").status_code == 200
    assert not log_file.exists() or all(r["level"] in ("warning", "error") for r in records(log_file))


def test_a_port_in_use_is_one_line_before_anything_is_loaded_or_printed(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SamesenseError, match=f"^port {port} on 127.0.0.1 is in use$"):
            serve(str(tmp_path / "no-such.faq"), None, port=port)  # the bank is not even looked at
        proc = subprocess.run([sys.executable, "-m", "samesense.cli", "serve", str(tmp_path / "no-such.faq"),
                               "--read-only", "--port", str(port)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"samesense: error: port {port} on 127.0.0.1 is in use\n"
    assert capsys.readouterr().out == ""


def test_a_log_file_that_cannot_be_opened_is_one_line(tmp_path, capsys, restore_loggers):
    missing = tmp_path / "no" / "such" / "service.log"
    assert main(["serve", str(tmp_path / "bank.faq"), "--read-only", "--port", "0", "--log-file", str(missing)]) == 2
    assert capsys.readouterr().err == f"samesense: error: {missing}: No such file or directory\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_samesense_serve_logs_as_json_and_records_unanswered_questions_read_only(trained_run, tmp_path):
    """The whole command: a read-only server given a token and --log-format json records what it
    cannot answer beside the bank, opens GET /unanswered to the token, and leaves the bank alone."""
    bank_path, log_file = tmp_path / "bank.faq", tmp_path / "service.log"
    with FaqBank.open(bank_path, trained_run[0] / "model") as bank:
        bank.add("abcde fghij", "the answer text")
        bank.set_settings(threshold=0.999)
    before = hashlib.sha256(bank_path.read_bytes()).hexdigest()
    port = free_port()
    env = {**os.environ, "SAMESENSE_TOKEN": TOKEN * 2, "OMP_NUM_THREADS": "1"}  # 20 characters
    proc = subprocess.Popen([sys.executable, "-m", "samesense.cli", "serve", str(bank_path), "--read-only",
                             "--port", str(port), "--log-format", "json", "--log-file", str(log_file)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {TOKEN * 2}"}
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert not httpx.post(base + "/ask", json={"question": "qqq zzz"}).json()["answered"]
        assert httpx.post(base + "/ask", json={"question": "abcde fghij"}).json()["answered"]
        assert httpx.post(base + "/faq", json={"question": "q", "answer": "a"}, headers=auth).status_code == 403
        listed = httpx.get(base + "/unanswered", headers=auth).json()
        assert [q["question"] for q in listed["questions"]] == ["qqq zzz"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.startswith(f"serving {bank_path}: 1 entries") and f"http://127.0.0.1:{port}/" in out
    found = records(log_file)
    start = next(r for r in found if r["logger"] == "samesense.serve")
    assert start["bank"] == str(bank_path) and start["writable"] is False
    assert start["unanswered_log"] == str(bank_path) + ".unanswered"
    assert any(r["logger"] == "uvicorn.error" and "Shutting down" in r["message"] for r in found)
    assert [r["route"] for r in found if r["logger"] == "samesense.access"] == [
        "/healthz", "/ask", "/ask", "/faq", "/unanswered"]
    text = log_file.read_text(encoding="utf-8")
    assert TOKEN not in text and "the answer text" not in text
    assert hashlib.sha256(bank_path.read_bytes()).hexdigest() == before


def test_an_unanswered_log_that_cannot_be_written_stops_serve_saying_what_to_do(trained_run, tmp_path,
                                                                                restore_loggers):
    bank_path = tmp_path / "bank.faq"
    with FaqBank.open(bank_path, trained_run[0] / "model") as bank:
        bank.add("abcde", "an answer")
    nowhere = tmp_path / "read-only-storage" / "bank.faq.unanswered"  # a folder that is not there
    with pytest.raises(SamesenseError, match="cannot use it as the unanswered-questions log .*; --unanswered-log "
                       "FILE puts it elsewhere, --no-unanswered-log keeps none$"):
        serve(str(bank_path), None, port=0, read_only=True, unanswered_log=nowhere)


def test_a_mistyped_bank_leaves_no_unanswered_log_behind(tmp_path, restore_loggers):
    with pytest.raises(SamesenseError, match="no such FAQ bank"):
        serve(str(tmp_path / "typo.faq"), None, port=0)
    assert list(tmp_path.iterdir()) == []
