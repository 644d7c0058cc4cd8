"""Everything a benchmark run needs on this machine, started and stopped by the runner.

- its own PostgreSQL database, migrated once into a template and copied
  fresh for every scenario (so rows left by one run cannot drift the next),
  dropped at the end;
- its own redis-server on a free port, no persistence, flushed before every
  scenario and stopped at the end: the Redis CPU it reports is that process
  alone, never another instance on the machine;
- the fake OpenRouter server (tests/fakes/openrouter.py) streaming with a
  given time to first token and tokens per second;
- one or more server processes (daphne by default, uvicorn for comparison),
  with production settings in benchmark mode;
- load generator processes (bench/loadgen.py), driven over pipes.

All of it listens on loopback only, on free ports. CPU is counted for these
processes only: the servers, the fake model, the generators, our Redis and
the PostgreSQL backends serving our database (the cluster's shared processes
are reported apart: they also work for every other database on the machine).
"""

from __future__ import annotations

import json
import os
import shutil
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

from tests.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "tatartours_bench")
TEMPLATE_NAME = f"{DB_NAME}_template"
FAKE_MODULE = os.environ.get("BENCH_FAKE_MODULE", "tests.fakes.openrouter")
# As in production (Makefile, Dockerfile, docker-compose.yml): a ping per socket
# every 30 s, not daphne's 20; pings were most of an idle process's CPU.
PING_INTERVAL_SECONDS = 30
BENCH_SECRET = "benchmark-only-secret-key-not-for-production-0123456789abcdefghij"  # noqa: S105


def database_url(name: str = DB_NAME) -> str:
    admin = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
    user = admin.get("user", "postgres")
    host = admin.get("host", "127.0.0.1")
    port = admin.get("port", 5432)
    return f"postgres://{user}@{host}:{port}/{name}"


def server_env(**extra: str) -> dict[str, str]:
    """Production settings in benchmark mode: the only differences are the mode's own."""
    return base_env(**{"REDIS_URL": redis_url(), **extra})


def base_env(**extra: str) -> dict[str, str]:
    """`server_env` without Redis, for what needs none (the fake model); REDIS_URL unset."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TATARTOURS_", "DJANGO_", "DEBUG", "TEST_", "REDIS_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tatartours.settings",
            "TATARTOURS_MODE": "benchmark",
            "SECRET_KEY": BENCH_SECRET,
            "DATABASE_URL": database_url(),
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
        process = self._spawn(f"fake-openrouter-{port}", argv, base_env(), port)
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
                sys.executable, "-m", "tatartours.daphne_server",
                "-b", "127.0.0.1", "-p", str(port),
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
    """Our database's template, migrated once for the run; dropped afterwards with the copy."""
    with _admin() as conn:
        for name in (DB_NAME, TEMPLATE_NAME):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_NAME}"')
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=base_env(DATABASE_URL=database_url(TEMPLATE_NAME)),
            check=True,
        )
        yield DB_NAME
    finally:
        with _admin() as conn:
            for name in (DB_NAME, TEMPLATE_NAME):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database() -> None:
    """Our database as migrations left it: a copy of the template (a second, not a migrate)."""
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}" TEMPLATE "{TEMPLATE_NAME}"')


@dataclass
class RedisService:
    """The bench's own redis-server: its URL and pid, once `bench_redis()` started it."""

    url: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


REDIS = RedisService()


def redis_url() -> str:
    if not REDIS.url:
        raise RuntimeError("the bench's Redis is not running (bench_redis())")
    return REDIS.url


@contextmanager
def bench_redis() -> Iterator[str]:
    """A private redis-server on a free loopback port for the whole run.

    Started here so that the Redis CPU of a run is this one process's: the
    machine's shared instance serves tests and other programs too, and
    counting every redis-server summed their work into ours.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    REDIS.url, REDIS.process = f"redis://127.0.0.1:{port}/0", process
    try:
        wait_for_port(port, timeout=10.0, process=process)
        yield REDIS.url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        REDIS.url, REDIS.process = "", None


def flush_redis() -> None:
    client = redis.Redis.from_url(redis_url())
    client.flushdb()
    client.close()


def postgres_backend_pids() -> list[int]:
    """The backends serving our database: the PostgreSQL work the run itself caused."""
    with _admin() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB_NAME],
        ).fetchall()
    return sorted(int(row[0]) for row in rows)


def postgres_shared_pids() -> list[int]:
    """The cluster's own processes (postmaster, WAL writer, checkpointer...), shared by
    every database on the machine: reported apart, never counted per message."""
    with _admin() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'"
        ).fetchall()
    pids = {int(row[0]) for row in rows}
    postmaster = {_parent(pid) for pid in pids}
    return sorted(pids | {p for p in postmaster if p > 1})


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
    """Our redis-server only (bench_redis), never another instance on the machine."""
    return [REDIS.pid] if REDIS.pid is not None else []


def channel_layer_backend(env: dict[str, str]) -> str:
    """The channel layer class the servers load with `env` (the chat's and the floor's)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CHANNEL_LAYERS['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


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
