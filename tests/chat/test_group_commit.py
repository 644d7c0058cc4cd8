"""Group commit (tatartours/group_commit.py): the message statements waiting at the same
moment share one transaction, each caller gets its own row after the commit, and a group
behaves for each caller as its statement alone would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from tatartours import async_db, group_commit
from tests.servers import group_commit_busy

pytestmark = pytest.mark.django_db(transaction=True)

_LOCK = 0x67C0  # an advisory lock of these tests' own

# Each statement returns what it was given and the transaction it ran in.
_WHO = "SELECT %(n)s::int, txid_current()"


_INSERT = "INSERT INTO group_commit_probe (n) VALUES (%(n)s) RETURNING n"


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


def _a_group_in_flight() -> contextlib.AbstractAsyncContextManager[asyncio.Future[Any]]:
    return group_commit_busy(_LOCK)


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


# A Batch of these tests' own: one statement for several callers, marked as such.
_PROBE_BATCH = group_commit.Batch(
    "SELECT (r->>'ord')::int, (r->>'n')::int, 'together', txid_current() "
    "FROM jsonb_array_elements(%(rows)s) AS r WHERE (r->>'n')::int >= %(least)s",
    {"least": 0},
)
_PROBE_ALONE = "SELECT %(n)s::int, 'alone', txid_current() WHERE %(n)s::int >= 0"


def _probe(n: int, key: str, batch: group_commit.Batch = _PROBE_BATCH) -> asyncio.Future[Any]:
    return asyncio.ensure_future(
        group_commit.fetchone(
            _PROBE_ALONE,
            {"n": n},
            lock_order=key,
            batch=group_commit.BatchRow(batch, {"n": n}),
        )
    )


async def test_a_group_of_one_batch_for_distinct_keys_runs_as_its_one_statement(healthy, settings):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    async with _a_group_in_flight():
        waiting = [_probe(n, key) for n, key in [(1, "c"), (2, "a"), (-3, "d"), (4, "b")]]
    rows: list[Any] = await asyncio.gather(*waiting)
    # Each caller gets its own row; one whose statement alone returns none gets none.
    assert [row and row[:2] for row in rows] == [
        (1, "together"),
        (2, "together"),
        None,
        (4, "together"),
    ]
    assert len({row[2] for row in rows if row}) == 1


async def test_a_group_with_two_statements_for_one_key_runs_them_one_by_one(healthy, settings):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    async with _a_group_in_flight():
        waiting = [_probe(1, "a"), _probe(2, "b"), _probe(3, "a")]
    rows: list[Any] = await asyncio.gather(*waiting)
    assert [row[:2] for row in rows] == [(1, "alone"), (2, "alone"), (3, "alone")]
    assert len({row[2] for row in rows}) == 1  # still one transaction


async def test_a_group_mixing_kinds_runs_each_statement(healthy, settings):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    other = group_commit.Batch(_PROBE_BATCH.sql, _PROBE_BATCH.shared)
    async with _a_group_in_flight():
        plain = asyncio.ensure_future(group_commit.fetchone(_WHO, {"n": 9}, lock_order="z"))
        waiting = [_probe(1, "a"), _probe(2, "b", other), plain]
    rows: list[Any] = await asyncio.gather(*waiting)
    assert [row[:2] for row in rows[:2]] == [(1, "alone"), (2, "alone")]
    assert rows[2][0] == 9


async def test_batches_switched_off_run_each_statement(healthy, settings):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    settings.ASYNC_DB_GROUP_BATCHES = False
    async with _a_group_in_flight():
        waiting = [_probe(1, "a"), _probe(2, "b")]
    rows: list[Any] = await asyncio.gather(*waiting)
    assert [row[:2] for row in rows] == [(1, "alone"), (2, "alone")]


async def test_a_failing_batch_runs_each_statement_alone_and_only_the_failing_one_fails(
    healthy, settings, probe_table
):
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    # One statement for all, which fails when any caller's row is already there.
    inserting = group_commit.Batch(
        "INSERT INTO group_commit_probe (n) SELECT (r->>'n')::int "
        "FROM jsonb_array_elements(%(rows)s) AS r RETURNING n - 1000, n",
        {},
    )
    await group_commit.fetchone(_INSERT, {"n": 2}, lock_order="x")
    async with _a_group_in_flight():
        waiting = [
            asyncio.ensure_future(
                group_commit.fetchone(
                    _INSERT, {"n": n}, lock_order=key,
                    batch=group_commit.BatchRow(inserting, {"n": n}),
                )
            )
            for n, key in [(1, "a"), (2, "b"), (3, "c")]
        ]  # fmt: skip
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert outcomes[0] == (1,) and outcomes[2] == (3,)
    assert isinstance(outcomes[1], psycopg.errors.UniqueViolation)
    assert await _stored() == [1, 2, 3]
