"""Real server processes for end-to-end tests: daphne on a free loopback port.

Settings reach the child only through environment variables (override_settings
does not cross a process boundary). The child uses the test database that
pytest-django created, so tests that use a server need
`@pytest.mark.django_db(transaction=True)` for their rows to be visible.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from tatartours import async_db

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def test_database_url() -> str:
    """DATABASE_URL of the database this test run uses (pytest-django's test DB)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def server_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tatartours.settings",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """Die at once, as a crashed machine would (SIGKILL)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_daphne(port: int | None = None, log_dir: Path | None = None, **env: str) -> ServerProcess:
    port = port or free_port()
    log_dir = log_dir or Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"daphne-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tatartours.daphne_server",  # daphne with the contract's close codes
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "--websocket-max-message-size",
            "65536",
            "--websocket-max-frame-size",
            "65536",
            "--ping-interval",
            "30",
            "tatartours.asgi:application",
        ],
        cwd=ROOT,
        env=server_env(**env),
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    log_file.close()
    server = ServerProcess(process, port, log_path)
    try:
        wait_for_port(port, process=process)
    except Exception:
        server.stop()
        raise RuntimeError(f"daphne did not start:\n{server.log()}") from None
    return server


def start_daphne_with_model(base_url: str, **env: str) -> ServerProcess:
    """A daphne whose AI talks to the fake OpenRouter at `base_url` (tests/fakes/openrouter.py)."""
    return start_daphne(
        None, None, OPENROUTER_BASE_URL=base_url, OPENROUTER_API_KEY="test-key", **env
    )


@contextmanager
def running_daphne(**env: str) -> Iterator[ServerProcess]:
    server = start_daphne(None, None, **env)
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def advisory_lock_held(lock: int) -> AsyncIterator[Any]:
    """Hold PostgreSQL advisory lock `lock` on a connection of the test's own, yielded
    (to watch the waiters with `until_a_statement_waits_for_a_lock`)."""
    holder = await psycopg.AsyncConnection.connect(**async_db.connection_kwargs())
    try:
        await holder.execute("SELECT pg_advisory_lock(%s)", (lock,))
        yield holder
    finally:
        await holder.close()


async def until_a_statement_waits_for_a_lock(watcher: Any, timeout: float) -> None:
    """Until some connection to the test database waits for a lock (a condition, not a sleep).

    `watcher`: a psycopg AsyncConnection of the test's own, not the one waiting.
    """
    async with asyncio.timeout(timeout):
        while True:
            cursor = await watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            row = await cursor.fetchone()
            if row is not None and row[0] > 0:
                return
            await asyncio.sleep(0.02)


@asynccontextmanager
async def group_commit_busy(lock: int) -> AsyncIterator[asyncio.Future[Any]]:
    """A group of tatartours.group_commit sent and waiting for advisory lock `lock`
    (its caller's future, yielded): with ASYNC_DB_GROUP_COMMITTERS = 1, what is sent
    meanwhile waits for the next group. On exit the lock is released and it ends."""
    from tatartours import group_commit

    behind_the_lock = (
        "SELECT %(n)s::int, txid_current() FROM (SELECT pg_advisory_xact_lock_shared(%(lock)s)) l"
    )
    async with advisory_lock_held(lock) as holder:
        first = asyncio.ensure_future(
            group_commit.fetchone(behind_the_lock, {"n": 0, "lock": lock}, lock_order="")
        )
        await until_a_statement_waits_for_a_lock(holder, timeout=10)
        yield first
        await holder.execute("SELECT pg_advisory_unlock(%s)", (lock,))
        row = await first
        assert row is not None and row[0] == 0


def wait_for_database_quiet(timeout: float = 5.0, quiet_for: float = 0.3) -> None:
    """Wait until no other connection works in the test database for `quiet_for` seconds.

    A server process shared by several tests may still be finishing what a
    closed socket started (a visitor leaving, a sweep) when the test ends;
    the TRUNCATE that empties the database between tests then deadlocks with
    that transaction. Called before the database is emptied.
    """
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            row = cursor.fetchone()
            busy = bool(row and row[0])
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet_for:
                return
            time.sleep(0.05)
