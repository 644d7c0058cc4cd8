"""Everything a benchmark run needs on this machine, started and stopped by the runner.

- its own PostgreSQL database (created, migrated, dropped at the end) and its
  own Redis database number (flushed before and after, never another one);
- the fake OpenRouter server (tests/fakes/openrouter.py) streaming with a
  given time to first token and tokens per second;
- one or more server processes (daphne by default, uvicorn for comparison),
  with production settings in benchmark mode;
- load generator processes (bench/loadgen.py), driven over pipes.

All of it listens on loopback only, on free ports.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench import procstat
from tests.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "tatartours_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
FAKE_MODULE = os.environ.get("BENCH_FAKE_MODULE", "tests.fakes.openrouter")
# As in production (Makefile, Dockerfile, docker-compose.yml): a ping per socket
# every 30 s, not daphne's 20; pings were most of an idle process's CPU.
PING_INTERVAL_SECONDS = 30
BENCH_SECRET = "benchmark-only-secret-key-not-for-production-0123456789abcdefghij"  # noqa: S105


def database_url() -> str:
    admin = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
    user = admin.get("user", "postgres")
    host = admin.get("host", "127.0.0.1")
    port = admin.get("port", 5432)
    return f"postgres://{user}@{host}:{port}/{DB_NAME}"


def server_env(**extra: str) -> dict[str, str]:
    """Production settings in benchmark mode: the only differences are the mode's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TATARTOURS_", "DJANGO_", "DEBUG", "TEST_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tatartours.settings",
            "TATARTOURS_MODE": "benchmark",
            "SECRET_KEY": BENCH_SECRET,
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    port: int = 0
    log_path: Path | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    """The processes of one run; `close()` stops every one of them."""

    log_dir: Path
    processes: list[Process] = field(default_factory=list)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], port: int = 0) -> Process:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        process = Process(name, popen, port, log_path)
        self.processes.append(process)
        return process

    def start_fake_model(
        self, first_token_ms: float, tokens_per_second: float
    ) -> tuple[Process, str]:
        """The fake OpenRouter; returns it and its base URL (the first line it prints).

        `--scenario echo`: one model round with a short answer quoting the
        question, so the model's own time is known (first token + words / rate)
        and everything beyond it is ours.
        """
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            FAKE_MODULE,
            "--port",
            str(port),
            "--first-token-ms",
            str(first_token_ms),
            "--tokens-per-second",
            str(tokens_per_second),
            "--scenario",
            "echo",
        ]
        process = self._spawn(f"fake-openrouter-{port}", argv, server_env(), port)
        wait_for_port(port, timeout=30.0, process=process.popen)
        base_url = ""
        deadline = time.monotonic() + 10
        while not base_url and time.monotonic() < deadline:
            assert process.log_path is not None
            for line in process.log_path.read_text(errors="replace").splitlines():
                if line.startswith("http"):
                    base_url = line.strip()
                    break
            time.sleep(0.05)
        if not base_url:
            raise RuntimeError(f"the fake model printed no base URL:\n{process.log_tail()}")
        return process, base_url

    def start_server(
        self,
        kind: str,
        env: dict[str, str],
        extra_args: Sequence[str] = (),
        app: str = "tatartours.asgi:application",
    ) -> Process:
        port = free_port()
        if kind == "daphne":
            argv = [
                sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                "--websocket-max-message-size", "65536",
                "--websocket-max-frame-size", "65536",
                "--ping-interval", str(PING_INTERVAL_SECONDS),
                "--proxy-headers",
                app,
            ]  # fmt: skip
        elif kind == "uvicorn":
            argv = [
                sys.executable, "-m", "uvicorn", app,
                "--host", "127.0.0.1", "--port", str(port),
                "--loop", "uvloop", "--http", "h11", "--ws", "websockets",
                "--ws-max-size", "65536", "--ws-per-message-deflate", "false",
                "--ws-ping-interval", str(PING_INTERVAL_SECONDS),
                "--proxy-headers", "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        else:
            raise ValueError(f"unknown server kind {kind!r}")
        argv += extra_args
        process = self._spawn(f"{kind}-{port}", argv, env, port)
        try:
            wait_for_port(port, timeout=30.0, process=process.popen)
        except Exception:
            raise RuntimeError(f"{kind} did not start:\n{process.log_tail()}") from None
        return process

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


@contextmanager
def running(log_dir: Path) -> Iterator[Stack]:
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(log_dir)
    try:
        yield stack
    finally:
        stack.close()


# --- the bench's own database and Redis database --------------------------------


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh, migrated database for this run; dropped afterwards."""
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=server_env(),
            check=True,
        )
        yield DB_NAME
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


@contextmanager
def bench_redis() -> Iterator[str]:
    """Our Redis database number, empty before and after (never any other number)."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


def flush_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def postgres_pids() -> list[int]:
    """The backends serving our database and PostgreSQL's own shared processes."""
    with _admin() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE (datname = %s OR backend_type <> 'client backend') AND pid <> pg_backend_pid()",
            [DB_NAME],
        ).fetchall()
    pids = [int(row[0]) for row in rows]
    postmaster = {_parent(pid) for pid in pids}
    return sorted(set(pids) | {p for p in postmaster if p > 1})


POSTGRES_COUNTERS = (
    "xact_commit", "xact_rollback", "tup_returned", "tup_fetched",
    "tup_inserted", "tup_updated", "tup_deleted", "blks_hit", "blks_read",
)  # fmt: skip


def postgres_counters() -> dict[str, int]:
    """Our database's cumulative counters (transactions, rows) from pg_stat_database."""
    with _admin() as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            f"SELECT {', '.join(POSTGRES_COUNTERS)} FROM pg_stat_database WHERE datname = %s",  # noqa: S608
            [DB_NAME],
        ).fetchone()
    return dict(zip(POSTGRES_COUNTERS, (int(v or 0) for v in row or ()), strict=False))


def _parent(pid: int) -> int:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def redis_pids() -> list[int]:
    return procstat.pids_named("redis-server")


# --- load generators --------------------------------------------------------------


@dataclass
class Generator:
    """One load generator process, driven line by line over its stdin/stdout."""

    popen: subprocess.Popen[str]

    @classmethod
    def start(cls, spec: dict[str, Any]) -> Generator:
        popen = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        generator = cls(popen)
        generator._say(json.dumps(spec))
        return generator

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _say(self, line: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline()
        if not line:
            raise RuntimeError(f"load generator exited with {self.popen.wait()}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def go(self) -> None:
        self._say("go")

    def close(self) -> None:
        if self.popen.poll() is None:
            try:
                self._say("close")
                self.popen.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.popen.kill()
                self.popen.wait(timeout=10)
