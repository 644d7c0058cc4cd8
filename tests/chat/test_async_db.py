"""The event loop's own PostgreSQL pool: the test database, autocommit, and outages as on the
DB thread (one shared state: tatartours/db_health.py)."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from django.db import OperationalError, connections

from tatartours import async_db
from tatartours.db_health import DatabaseUnavailable, health
from tests.servers import advisory_lock_held, until_a_statement_waits_for_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


async def _database_and_autocommit(conn: async_db.Connection) -> tuple[str, bool]:
    cursor = await conn.execute("SELECT current_database()")
    row = await cursor.fetchone()
    assert row is not None
    return str(row[0]), conn.autocommit


async def test_it_reaches_the_test_database_in_autocommit(healthy):
    name, autocommit = await async_db.run(_database_and_autocommit)
    assert name == connections["default"].settings_dict["NAME"]
    assert autocommit


async def test_a_second_test_gets_a_pool_of_its_own_loop(healthy):
    # The previous test's loop is closed; its pool must not be reused.
    first = await async_db.pool()
    assert (await async_db.run(_database_and_autocommit))[1]
    assert await async_db.pool() is first
    await async_db.close()
    assert await async_db.pool() is not first


async def test_while_the_database_is_known_down_nothing_runs(healthy):
    ran = []

    async def work(conn: async_db.Connection) -> None:
        ran.append(conn)

    health.mark_down("test")
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable):
        await async_db.run(work)
    assert time.monotonic() - started < 0.2
    assert ran == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_server_fails_fast_and_marks_it_down(healthy, settings):
    await async_db.close()
    db = connections["default"].settings_dict
    port, db["PORT"] = db.get("PORT"), str(_closed_port())
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError):
            await async_db.run(_database_and_autocommit)
        assert time.monotonic() - started < settings.ASYNC_DB_POOL_TIMEOUT + 1.5
        assert health.down
        with pytest.raises(DatabaseUnavailable):
            await async_db.run(_database_and_autocommit)
    finally:
        db["PORT"] = port
        await async_db.close()
    await health.until_up()
    assert (await async_db.run(_database_and_autocommit))[1]


_LOCK = 4242  # an advisory lock the blocked statements of the tests below queue on


async def _behind_the_lock(conn: async_db.Connection) -> int:
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
    return 1


async def _waiting_for_a_connection(the_pool: Any, count: int) -> None:
    """Until `count` callers queue for a pool connection (a condition, not a sleep)."""
    async with asyncio.timeout(10):
        while True:
            if the_pool.get_stats().get("requests_waiting", 0) >= count:
                return
            await asyncio.sleep(0.02)


async def test_a_burst_longer_than_the_pool_timeout_waits_instead_of_marking_it_down(
    healthy, settings
):
    """More callers than connections, each connection busy for longer than the pool
    timeout: the pool is busy, PostgreSQL answers, so nobody gets `unavailable`."""
    await async_db.close()
    settings.ASYNC_DB_POOL_MAX = 2
    burst = 5
    async with advisory_lock_held(_LOCK) as holder:
        calls = [asyncio.ensure_future(async_db.run(_behind_the_lock)) for _ in range(burst)]
        the_pool = await async_db.pool()
        await _waiting_for_a_connection(the_pool, burst - settings.ASYNC_DB_POOL_MAX)
        # The stimulus: the queued callers wait past the pool timeout (1 s).
        await asyncio.sleep(settings.ASYNC_DB_POOL_TIMEOUT + 0.5)
        assert not health.down
        assert not any(call.done() for call in calls)
        await holder.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))
        assert await asyncio.gather(*calls) == [1] * burst
    assert not health.down
    await async_db.close()


async def test_a_pool_busy_past_the_checkout_limit_fails_without_marking_it_down(healthy, settings):
    await async_db.close()
    settings.ASYNC_DB_POOL_MAX = 1
    settings.ASYNC_DB_CHECKOUT_LIMIT = 0.8
    async with advisory_lock_held(_LOCK) as holder:
        busy = asyncio.ensure_future(async_db.run(_behind_the_lock))
        the_pool = await async_db.pool()
        await until_a_statement_waits_for_a_lock(holder, timeout=10)
        started = time.monotonic()
        with pytest.raises(OperationalError) as raised:
            await async_db.run(_behind_the_lock)
        assert not isinstance(raised.value, DatabaseUnavailable)
        assert time.monotonic() - started < settings.ASYNC_DB_CHECKOUT_LIMIT + 1
        assert not health.down
        await holder.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))
        assert await busy == 1
        # The connection went back: the pool serves the next caller.
        assert await async_db.run(_behind_the_lock) == 1
        assert the_pool.get_stats()["pool_size"] == 1
    await async_db.close()
