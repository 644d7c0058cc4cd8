"""Shared fixtures: real Postgres (pytest-django), real Redis, the real ASGI app.

Redis: tests use the database of REDIS_URL (make test picks /15) and flush
that database, and only it, before each test, so leftovers of one test
(group members, rate-limit windows, presence) never leak into the next.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.conf import settings

from tatartours import async_db
from tatartours.db_health import health
from tests.factories import OperatorSocket, VisitorSocket, make_operator
from tests.fakes.openrouter import FakeOpenRouter
from tests.servers import ROOT, ServerProcess, start_daphne
from tests.wsclient import CHECKS, SEEN


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Before the test database is dropped, end the sessions still holding it.

    psycopg's pool keeps idle connections (and threads of async tests keep
    theirs); Postgres refuses to drop a database that is in use.
    """
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Any:
    """Close the async pool on a test's event loop before pytest-asyncio tears the loop down.

    psycopg_pool's maintenance tasks outlive a cancellation, so a pool left
    open when the loop cancels its remaining tasks would hang the teardown
    (tatartours/async_db.py): the runner of each loop gets a finalizer that
    runs first and closes the pool there.
    """
    result = yield
    if isinstance(result, asyncio.Runner):
        runner = result

        def close_pool() -> None:
            if not runner.get_loop().is_closed():
                runner.run(async_db.close())
                runner.run(_cancel_leftover_tasks())

        fixturedef.addfinalizer(close_pool)
    return result


async def _cancel_leftover_tasks(timeout: float = 10) -> None:
    """Cancel what the test left running, as the loop's teardown will, but bounded:
    a task that does not end on cancellation would hang the teardown without a
    word; here it is named, with its stack, and the test fails.

    A leftover (an AI answer task, say) may open a new async pool on its way
    out; psycopg_pool's maintenance tasks do not end on cancellation, only
    when their pool closes, so the running loop's pools are closed again
    while the leftovers end.
    """
    current = asyncio.current_task()
    leftovers = {task for task in asyncio.all_tasks() if task is not current}
    for task in leftovers:
        task.cancel()
    deadline = asyncio.get_running_loop().time() + timeout
    while leftovers and asyncio.get_running_loop().time() < deadline:
        _done, leftovers = await asyncio.wait(leftovers, timeout=0.2)
        await async_db.close()
    if leftovers:
        report = io.StringIO()
        for task in leftovers:
            task.print_stack(file=report)
        pytest.fail(f"{len(leftovers)} task(s) did not end on cancellation:\n{report.getvalue()}")


@pytest.fixture(autouse=True)
def _fresh_redis() -> Iterator[None]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    client.close()
    # The Redis channel layer binds to the event loop that first used it;
    # every test gets a new loop, so it gets a new layer too.
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}
    # The async pool belongs to the test's event loop (tatartours/async_db.py):
    # once that loop closed, its connections are closed too, not left idle.
    async_db.discard_stale()


@pytest.fixture
def healthy() -> Iterator[None]:
    """PostgreSQL known up (tatartours/db_health.py's state, shared by the process) before
    and after the test, whatever an earlier test left it as."""
    health.mark_up()
    yield
    health.mark_up()


@pytest.fixture
def fake_openrouter(settings: Any) -> Iterator[FakeOpenRouter]:
    """A fake OpenRouter on a free loopback port, with settings pointing at it.

    It accepts only the key "test-key"; configure answers and failures on the
    yielded `tests.fakes.openrouter.FakeOpenRouter`.
    """
    from ai.breaker import breakers

    # Circuit breakers live in process memory: no test inherits another's.
    breakers.reset()
    with FakeOpenRouter(api_key="test-key") as fake:
        settings.OPENROUTER_BASE_URL = fake.base_url
        settings.OPENROUTER_API_KEY = "test-key"
        yield fake
    breakers.reset()


@pytest.fixture
async def operator() -> AsyncIterator[Any]:
    """Open an operator's dashboard socket (a new operator unless `user` is given)."""
    sockets: list[OperatorSocket] = []

    async def open_operator(user: Any = None, **profile: Any) -> OperatorSocket:
        if user is None:
            user = await database_sync_to_async(make_operator)(**profile)
        socket = await OperatorSocket.connect_as(user)
        sockets.append(socket)
        return socket

    yield open_operator
    for socket in sockets:
        await socket.close()


@pytest.fixture
def two_servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two daphne processes sharing the test database and Redis."""
    first = start_daphne()
    try:
        second = start_daphne()
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
async def visitor() -> AsyncIterator[Any]:
    """A registered visitor socket on the real ASGI app; closed after the test."""
    sockets: list[VisitorSocket] = []

    async def open_visitor(**register: Any) -> VisitorSocket:
        socket = await VisitorSocket.open()
        sockets.append(socket)
        await socket.register(**register)
        return socket

    yield open_visitor
    for socket in sockets:
        await socket.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Which frame types of docs/protocol.md test clients received in this session.

    Every frame received was checked against its definition (tests/wsclient.py);
    this says which outgoing types the run saw at least once and which it never
    did, also in test-artifacts/frames-seen.txt. A partial run sees fewer; the
    whole suite should leave none unseen (tests/test_protocol_frames.py drives
    the ones no other test reaches).
    """
    if not SEEN:
        return
    lines = []
    unseen = []
    for side, check in CHECKS.items():
        for frame_type in sorted(check.types):
            count = SEEN[side, frame_type]
            lines.append(f"{side:9} {frame_type:24} {count}")
            if not count:
                unseen.append(f"{side}:{frame_type}")
    artifacts = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "frames-seen.txt").write_text("\n".join(lines) + "\n")
    seen = sum(1 for line in lines if not line.endswith(" 0"))
    terminalreporter.write_sep("-", f"protocol frames received: {seen} of {len(lines)} types")
    if unseen:
        terminalreporter.write_line("never received in this run: " + ", ".join(unseen))
