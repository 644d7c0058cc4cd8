"""What `make eval` runs against: its own database with the demo data, daphne, maybe a model.

Like bench/stack.py: a database of its own (created, migrated, loaded with
`load_demo_tours`, dropped at the end unless kept), its own Redis database
number (flushed before and after), daphne started as the tests start it
(tests/servers.py) in benchmark mode (production settings with the visitor
rate limits lifted: a hundred questions from one IP would otherwise be
throttled) on a free loopback port, and, with
`--model fake`, our fake OpenRouter answering from the site's tools.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from tests.servers import ServerProcess, free_port, start_daphne, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "evaluation" / "results"
PG_ADMIN_URL = os.environ.get("EVAL_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("EVAL_DB_NAME", "tatartours_eval")
REDIS_URL = os.environ.get("EVAL_REDIS_URL", "redis://127.0.0.1:6379/12")
EVAL_SECRET = "evaluation-only-secret-key-not-for-production-0123456789abcdefghij"  # noqa: S105
# What the site's AI needs to reach a model; passed on with `--model env`.
MODEL_SETTINGS = ("OPENROUTER_API_KEY", "OPENROUTER_BASE_URL", "AI_MODELS")


def database_url() -> str:
    admin = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
    user = admin.get("user", "postgres")
    host = admin.get("host", "127.0.0.1")
    port = admin.get("port", 5432)
    return f"postgres://{user}@{host}:{port}/{DB_NAME}"


def server_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TATARTOURS_", "DJANGO_", "DEBUG", "TEST_", "AI_"))
        and key not in MODEL_SETTINGS
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tatartours.settings",
            "TATARTOURS_MODE": "benchmark",
            "SECRET_KEY": EVAL_SECRET,
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "OPENROUTER_API_KEY": "",
        }
    )
    env.update(extra)
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    port: int

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
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    log_dir: Path
    processes: list[Process] = field(default_factory=list)
    servers: list[ServerProcess] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], env: dict[str, str], port: int) -> Process:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        process = Process(name, popen, log_path, port)
        self.processes.append(process)
        try:
            wait_for_port(port, timeout=30.0, process=popen)
        except Exception:
            raise RuntimeError(f"{name} did not start:\n{process.log_tail()}") from None
        return process

    def start_fake_model(self) -> str:
        """Our fake OpenRouter answering from the site's tools; returns its base URL."""
        port = free_port()
        argv = [
            sys.executable, "-m", "tests.fakes.openrouter", "--port", str(port),
            "--first-token-ms", "50", "--tokens-per-second", "400", "--scenario", "tours",
        ]  # fmt: skip
        self.spawn(f"fake-openrouter-{port}", argv, server_env(), port)
        return f"http://127.0.0.1:{port}/api/v1"

    def start_daphne(self, env: dict[str, str]) -> ServerProcess:
        """Daphne started exactly as the tests start it (tests/servers.py), with `env` on top."""
        server = start_daphne(None, self.log_dir, **env)
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()
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


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


@contextmanager
def eval_database(keep: bool = False) -> Iterator[str]:
    """A fresh database, migrated and loaded with the demo catalogue as of today."""
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    try:
        for command in (["migrate", "--noinput", "-v", "0"], ["load_demo_tours"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=server_env(),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        yield DB_NAME
    finally:
        if not keep:
            # The harness's own Django connections may still be open.
            from django.db import connections

            connections.close_all()
            with _admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


@contextmanager
def eval_redis() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        with suppress(redis.RedisError):
            client.flushdb()
        client.close()
