"""The event loop's own PostgreSQL pool: the test database, autocommit, and outages as on the
DB thread (one shared state: tatartours/db_health.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.db import OperationalError, connections

from tatartours import async_db
from tatartours.db_health import DatabaseUnavailable, health

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def healthy() -> Iterator[None]:
    health.mark_up()
    yield
    health.mark_up()


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
