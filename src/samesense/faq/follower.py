"""A replica in step with its bank's database, and whether it is ready to answer (/healthz).

Several `samesense serve` processes over one PostgreSQL bank each hold their own vector index (and
BM25 index) in memory. Every write bumps the bank's generation and NOTIFYs it (postgres.py); each
replica's ChangeFollower LISTENs on a connection of its own and, on each notification (and every
`poll` seconds besides, for a notification lost with a connection), brings its bank up to date
(FaqBank.refresh: the index gains and loses the questions the store did). While it is connected
and in step, the bank is `followed`: a question does not read the generation first (one database
round trip less on every /ask); a write is answered once its notification has arrived, within
milliseconds. While the follower is not connected, every question reads the generation again.

A replica is not ready (/healthz 503, so a load balancer sends its traffic elsewhere) while
  - its follower has lost the database (a restart, a network cut), until it has reconnected and
    caught up from the generation;
  - it has not caught up for `stale_after` seconds (a long re-sync, a stuck connection);
  - the bank's vectors are now another model's than the one it holds (another replica was started
    with a new model and re-encoded the bank): it refuses to answer (503) rather than answer with a
    model the bank no longer uses, until it is restarted with the bank's model.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from fastapi.responses import JSONResponse

from .database import BankUnavailable
from .guard import RETRY_AFTER

if TYPE_CHECKING:
    from .bank import FaqBank

log = logging.getLogger("samesense.follower")


class ChangeFollower:
    def __init__(self, bank: FaqBank, poll: float = 0.5, stale_after: float = 3.0, retry: float = 0.5):
        self.bank, self.poll, self.stale_after, self.retry = bank, poll, stale_after, retry
        self.connected = False
        self.problem: str | None = "not yet caught up with the database"
        self.caught_up_at = 0.0  # time.monotonic() of the last catch-up
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="samesense-follower", daemon=True)

    def start(self) -> "ChangeFollower":
        self.thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        self.bank.followed = False

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.bank.store.db.listen() as wait:
                    self._catch_up()  # listening first, then caught up: no write in between is missed
                    if self.problem is None:
                        log.info("following %s from generation %d", self.bank.path, self.bank.generation)
                    while not self._stop.is_set():
                        wait(self.poll)  # a notification, or the poll interval: read the generation either way
                        self._catch_up()
            except Exception as err:  # BankUnavailable mostly; whatever it is, not ready until caught up again
                self.bank.followed = False  # each question looks for itself meanwhile
                if self.connected or self.problem != f"lost the database: {err}":
                    log.warning("not ready: %s", err)
                self.connected, self.problem = False, f"lost the database: {err}"
                self._stop.wait(self.retry)

    def _catch_up(self) -> None:
        self.bank.refresh(followed_too=True)
        self.connected, self.problem, self.caught_up_at = True, None, time.monotonic()
        self.bank.followed = True

    def other_model(self) -> str | None:
        """Why this replica must not answer: the bank's vectors are another model's now (None: they are not)."""
        model, stored = self.bank.model, self.bank.settings.get("model_fingerprint")
        if model is None or stored in (None, model.fingerprint):
            return None
        return (f"the bank's vectors are now made by model {stored}, this replica holds model {model.fingerprint}: "
                "restart it with the bank's model")

    def not_ready(self) -> str | None:
        """Why this replica is not ready to answer, or None when it is."""
        if not self.connected:
            return self.problem
        behind = time.monotonic() - self.caught_up_at
        if behind > self.stale_after:
            return f"behind the database: last caught up {behind:.1f} s ago"
        return self.other_model()


def follow(bank: FaqBank) -> ChangeFollower | None:
    """A started follower for a bank in a database server that other replicas share; None for a file."""
    return ChangeFollower(bank).start() if bank.store.db.shared else None


def check_model(follower: ChangeFollower | None) -> None:
    """Before an answer: refused (503, BankUnavailable) by a replica whose model the bank no longer uses."""
    problem = follower.other_model() if follower is not None else None
    if problem:
        raise BankUnavailable(problem)


def health(bank: FaqBank, writable: bool, follower: ChangeFollower | None = None):
    """/healthz: the bank's info, its file (or database) by name alone (HealthOut drops the rest:
    the model's folder, the calibration's files); a 503 saying why for a replica not ready."""
    problem = follower.not_ready() if follower is not None else None
    if problem:
        return JSONResponse({"status": "not ready", "ready": False, "detail": problem}, status_code=503)
    info = bank.info()
    return {**info, "status": "ok", "ready": True, "writable": writable, "bank": bank.path.name}


def database_unavailable(request, err: BankUnavailable) -> JSONResponse:
    """The service's answer when the bank's database cannot be reached: 503, try again later."""
    logging.getLogger("samesense.serve").warning("%s %s: %s", request.method, request.url.path, err)
    return JSONResponse({"detail": str(err)}, status_code=503, headers={"Retry-After": RETRY_AFTER.decode()})
