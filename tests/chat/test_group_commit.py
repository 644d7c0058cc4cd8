"""Group commit (tatartours/group_commit.py): the message statements waiting at the same
moment share one transaction, each caller gets its own row after the commit, and a group
behaves for each caller as its statement alone would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest

from tatartours import async_db, group_commit
from tatartours.db_health import health
from tests.servers import advisory_lock_held, until_a_statement_waits_for_a_lock

pytestmark = pytest.mark.django_db(transaction=True)

_LOCK = 0x67C0  # an advisory lock of these tests' own

# Each statement returns what it was given and the transaction it ran in.
_WHO = "SELECT %(n)s::int, txid_current()"
# Waits for the test to release the advisory lock: keeps a group in flight.
_BEHIND_THE_LOCK = (
    "SELECT %(n)s::int, txid_current() FROM (SELECT pg_advisory_xact_lock_shared(%(lock)s)) l"
)


_INSERT = "INSERT INTO group_commit_probe (n) VALUES (%(n)s) RETURNING n"


@pytest.fixture
def healthy() -> Iterator[None]:
    health.mark_up()
    yield
    health.mark_up()


@pytest.fixture
async def probe_table() -> AsyncIterator[None]:
    """A table and a sequence the statements use, committed for the pool's connections."""
    async with await psycopg.AsyncConnection.connect(**async_db.connection_kwargs()) as conn:
        await conn.execute("CREATE TABLE group_commit_probe (n int PRIMARY KEY)")
        await conn.execute("CREATE SEQUENCE group_commit_order")
    yield
    await async_db.close()
    async with await psycopg.AsyncConnection.connect(**async_db.connection_kwargs()) as conn:
        await conn.execute("DROP TABLE group_commit_probe")
        await conn.execute("DROP SEQUENCE group_commit_order")


@contextlib.asynccontextmanager
async def _a_group_in_flight() -> AsyncIterator[asyncio.Future[Any]]:
    """A first statement sent and waiting for the advisory lock (yielded): with one
    committer, what is sent meanwhile waits for the next group. On exit the lock is
    released and that first statement ends."""
    async with advisory_lock_held(_LOCK) as holder:
        first = asyncio.ensure_future(
            group_commit.fetchone(_BEHIND_THE_LOCK, {"n": 0, "lock": _LOCK}, lock_order="")
        )
        await until_a_statement_waits_for_a_lock(holder, timeout=10)
        yield first
        await holder.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))
        row = await first
        assert row is not None and row[0] == 0


async def _stored() -> list[int]:
    async with await psycopg.AsyncConnection.connect(**async_db.connection_kwargs()) as conn:
        cursor = await conn.execute("SELECT n FROM group_commit_probe ORDER BY n")
        return [row[0] for row in await cursor.fetchall()]


async def test_statements_waiting_together_commit_in_one_transaction_each_with_its_own_row(
    healthy, settings
):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    async with _a_group_in_flight() as first:
        # These arrive while the only committer is busy: they wait, then go as one group.
        waiting = [
            asyncio.ensure_future(group_commit.fetchone(_WHO, {"n": n}, lock_order=f"{n:02}"))
            for n in range(1, 21)
        ]
    rows: list[Any] = await asyncio.gather(first, *waiting)
    assert [row[0] for row in rows] == list(range(21))
    assert len({row[1] for row in rows[1:]}) == 1  # one transaction for the twenty
    assert rows[0][1] != rows[1][1]


async def test_without_committers_every_statement_runs_alone(healthy, settings):
    settings.ASYNC_DB_GROUP_COMMITTERS = 0
    rows: list[Any] = await asyncio.gather(
        *(group_commit.fetchone(_WHO, {"n": n}, lock_order=str(n)) for n in range(10))
    )
    assert [row[0] for row in rows] == list(range(10))
    assert len({row[1] for row in rows}) == 10


async def test_a_group_runs_its_statements_in_lock_order(healthy, settings, probe_table):
    # Two groups locking the same chats lock them in the same order: no deadlock.
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    ordered = (
        "SELECT %(n)s::int, nextval('group_commit_order') "
        "FROM (SELECT pg_advisory_xact_lock_shared(%(lock)s)) l"
    )
    keys = ["c", "a", "d", "b"]
    async with _a_group_in_flight():
        waiting = [
            asyncio.ensure_future(
                group_commit.fetchone(ordered, {"n": i, "lock": _LOCK}, lock_order=key)
            )
            for i, key in enumerate(keys)
        ]
    rows: list[Any] = await asyncio.gather(*waiting)
    run_order = sorted(range(len(keys)), key=lambda i: rows[i][1])
    assert [keys[i] for i in run_order] == ["a", "b", "c", "d"]


async def test_one_failing_statement_fails_alone_and_the_rest_of_its_group_is_stored(
    healthy, settings, probe_table
):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    async with _a_group_in_flight():
        # 3 twice: the second violates the primary key and aborts the group's transaction.
        numbers = [1, 2, 3, 3, 4]
        waiting = [
            asyncio.ensure_future(group_commit.fetchone(_INSERT, {"n": n}, lock_order=f"{i}"))
            for i, n in enumerate(numbers)
        ]
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert outcomes[:3] == [(1,), (2,), (3,)]
    assert isinstance(outcomes[3], psycopg.errors.UniqueViolation)
    assert outcomes[4] == (4,)
    assert await _stored() == [1, 2, 3, 4]
    # The connection went back clean: the next statement runs.
    assert await group_commit.fetchone(_WHO, {"n": 9}, lock_order="9") is not None


async def test_a_statement_whose_caller_left_before_its_group_was_sent_is_not_sent(
    healthy, settings, probe_table
):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    async with _a_group_in_flight():
        left = asyncio.ensure_future(group_commit.fetchone(_INSERT, {"n": 1}, lock_order="1"))
        stays = asyncio.ensure_future(group_commit.fetchone(_INSERT, {"n": 2}, lock_order="2"))
        await asyncio.sleep(0)  # both queued behind the group in flight
        left.cancel()
    assert await stays == (2,)
    with pytest.raises(asyncio.CancelledError):
        await left
    assert await _stored() == [2]


async def test_one_callers_statements_commit_together_or_not_at_all(healthy, settings, probe_table):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    async with _a_group_in_flight():
        # The second statement of this work fails: its first must not be stored either.
        broken = asyncio.ensure_future(
            group_commit.fetch_all([(_INSERT, {"n": 10}), (_INSERT, {"n": 10})], lock_order="a")
        )
        whole = asyncio.ensure_future(
            group_commit.fetch_all([(_INSERT, {"n": 11}), (_INSERT, {"n": 12})], lock_order="b")
        )
    outcomes = await asyncio.gather(broken, whole, return_exceptions=True)
    assert isinstance(outcomes[0], psycopg.errors.UniqueViolation)
    assert outcomes[1] == [[(11,)], [(12,)]]
    assert await _stored() == [11, 12]


async def test_work_sent_as_the_last_committer_ends_is_still_committed(healthy, settings):
    # The caller resumes in the loop turn in which its group's committer ends:
    # its next statement must find a committer, not wait for the next caller.
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    for n in range(20):
        async with asyncio.timeout(5):
            row = await group_commit.fetchone(_WHO, {"n": n}, lock_order="x")
        assert row is not None and row[0] == n
