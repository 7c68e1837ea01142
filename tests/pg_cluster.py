"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's `postgresql` package's initdb
and pg_ctl, a temporary folder, a free port on 127.0.0.1, trust authentication. Run as the
`postgres` user when this process is root (PostgreSQL refuses to run as root). Never a mock.
And `samesense serve` replicas over a bank in it (tests/faq/test_replicas.py, benchmarks/faq_replicas.py).

    with PgCluster.started() as cluster:
        url = cluster.new_database()          # postgresql://postgres@127.0.0.1:PORT/test_1
        with replicas(url, model, token, logs_folder, count=2) as (urls, procs): ...
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APT_HINT = "apt-get install -y postgresql"


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/N/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_reason() -> str | None:
    """Why no cluster can start here (None: it can)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'samesense[postgres]')"
    if pg_bin() is None:
        return f"PostgreSQL is not installed ({APT_HINT}; .ci/run does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, folder: Path, port: int, durable: bool = False):
        self.folder, self.port, self.data, self.durable = folder, port, folder / "data", durable
        self.bin = pg_bin()
        self.user = "postgres"
        self.databases = 0

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8", "--no-sync",
                 "--locale=C")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = "
                       f"'{self.folder}'\nmax_connections = 300\nshared_buffers = 128MB\n")
            if not self.durable:  # tests' speed on a shared disk: durability against an OS crash is not tested
                conf.write("fsync = off\nfull_page_writes = off\n")

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-m", "fast", "-w",
                 "-t", "60", "restart")

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{self.user}{secret}@127.0.0.1:{self.port}/{database}"

    def new_database(self, password: str | None = None) -> str:
        """A new, empty database: its address."""
        import psycopg

        self.databases += 1
        name = f"test_{self.databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name, password)

    @classmethod
    @contextlib.contextmanager
    def started(cls, durable: bool = False):
        """`durable`: PostgreSQL's defaults (fsync on every commit), for a benchmark's writes."""
        folder = Path(tempfile.mkdtemp(prefix="samesense-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        cluster = cls(folder, free_port(), durable)
        try:
            cluster.init()
            cluster.start()
            yield cluster
        finally:
            cluster.stop("immediate")
            shutil.rmtree(folder, ignore_errors=True)


def ready(url: str) -> bool:
    """Whether the service at `url` answers /healthz with 200 (up, and a replica in step)."""
    import httpx

    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@contextlib.contextmanager
def replicas(bank: str, model, token: str, logs_folder: Path, count: int = 2, extra: tuple[str, ...] = (),
             wait: float = 300):
    """`count` `samesense serve` processes on `bank`, writable with `token`, their output in
    logs_folder/replicaN.log: yields (their base URLs, the processes) once each is ready."""
    procs, urls = [], []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SAMESENSE_TOKEN": token}
    try:
        for n in range(count):
            port = free_port()
            with open(Path(logs_folder) / f"replica{n}.log", "w") as log:
                procs.append(subprocess.Popen([sys.executable, "-m", "samesense.cli", "serve", bank, "--model",
                                               str(model), "--port", str(port), "--log-level", "warning", *extra],
                                              stdout=log, stderr=log, env=env))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.time() + wait
        for url, proc in zip(urls, procs):
            while not ready(url):
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"{url} did not become ready: see {logs_folder}")
                time.sleep(0.05)
        yield urls, procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
