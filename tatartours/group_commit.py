"""Group commit: the message statements of the same moment in one transaction.

Every chat message is one statement (chat/message_rows.py,
support/request_rows.py). Run one by one in autocommit, each pays its own
checkout, network round trip, transaction and WAL flush; under load, many
wait for a connection at the same instant anyway. Here the statements that
are waiting when a connection is ready go together: one checkout, one
pipeline (psycopg's pipeline mode: every statement sent before any result
is read), one transaction, one commit. Each caller gets its own row only
after that commit, so an ack still means "stored".

Measured on this machine (docs/benchmarks.md, "Group commit"): the relay
benchmark, alternating, 623-641 round trips/s at 1.26-1.35 ms of CPU per
message (PostgreSQL 0.37-0.41) with every message alone, 912-937 at
0.78-0.81 (0.18-0.19) grouped; 7-11 messages per transaction on average.

The rules that keep it the same as one statement each:

- at most ASYNC_DB_GROUP_COMMITTERS groups are in flight per event loop
  (0: none, every statement runs alone through `async_db.run`); a statement
  that finds one free starts a group at once, so an idle process adds no
  wait; the others wait for the next group, which takes every statement
  waiting then (up to ASYNC_DB_GROUP_MAX);
- statements take their row locks in `lock_order` (the chat's public id):
  two groups that lock the same chats lock them in the same order and
  cannot deadlock each other;
- one caller's several statements (`fetch_all`: say a lock, then a statement
  whose snapshot must be newer than it) stay together and in order, and are
  stored together or not at all;
- a statement that waits for a row lock holds its whole group until the
  lock is released (alone, it held only itself); the other committer goes on;
- a statement whose caller was cancelled before its group was sent is not
  sent (as `async_db.run` sends nothing after a cancelled checkout);
- when one statement fails (not an outage), the transaction took the others
  with it, so nothing was stored: each runs again alone, and only the one
  that fails gets its error;
- statements of one kind may also be written once for several callers
  (`Batch`): a group made only of such statements, for distinct lock keys,
  runs as that one statement in autocommit (no BEGIN, no COMMIT, one
  execute: psycopg's pipeline pays a send and an event-loop wait per
  statement, the largest item of the relay's profile); it locks in the
  same order and returns each caller the row its statement alone would;
  a group with anything else in it, or two statements for one key, runs
  as a pipeline as above, so that every lock is still taken in one order;
- an outage ends the group as it ends one statement: every caller gets
  `DatabaseUnavailable` or Django's `OperationalError` (tatartours/async_db.py);
  a group whose commit was sent may have committed, as a statement may, and
  the client's retry with the same client_id is deduplicated by the statement.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import psycopg
from django.conf import settings
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

from tatartours import async_db
from tatartours.db_health import is_outage

Row = Sequence[Any] | None
Params = Mapping[str, Any] | Sequence[Any]
Statement = tuple[str, Params]


@dataclass(frozen=True, eq=False)
class Batch:
    """One statement that does, for several callers, what each one's statement does alone.

    `sql` takes `%(rows)s`: a JSON array with one object per caller (the
    caller's `BatchRow.values`, and "ord": its place in lock order) besides
    the `shared` parameters, the same for every caller. It takes its locks
    in "ord" order, and returns, for each caller whose statement alone would
    return a row, "ord" and then that row's columns. Callers' keys are
    distinct (one statement per key), so no caller's write is another's to see.
    """

    sql: str
    shared: Mapping[str, Any]


@dataclass(frozen=True)
class BatchRow:
    """One caller's part of a `Batch`: JSON values (strings for dates and ids)."""

    batch: Batch
    values: Mapping[str, Any]


@dataclass
class _Work:
    """One caller's statements, and where their rows go."""

    lock_order: str
    statements: Sequence[Statement]
    future: asyncio.Future[list[list[Any]]]
    batch: BatchRow | None = None


@dataclass
class _Group:
    waiting: list[_Work] = field(default_factory=list)
    # Committers running: counted down by the committer itself in the same step
    # in which it finds nothing waiting. (A task's done callback runs a loop turn
    # later: counted by the set, a caller resumed in between found no free
    # committer and its next statement waited for somebody else's.)
    committing: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)  # held, not to be collected


_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Group] = weakref.WeakKeyDictionary()


async def fetchone(
    sql: str, params: Params, *, lock_order: str, batch: BatchRow | None = None
) -> Row:
    """The first row of one statement, committed with the others of the moment.

    With `batch`, the statement may run as part of that `Batch` instead (the
    same row back). Raises what `async_db.run` raises for the statement
    alone: `DatabaseUnavailable`, Django's `OperationalError` for an outage,
    the psycopg error of the statement.
    """
    rows = await fetch_all([(sql, params)], lock_order=lock_order, batch=batch)
    return rows[0][0] if rows[0] else None


async def fetch_all(
    statements: Sequence[Statement], *, lock_order: str, batch: BatchRow | None = None
) -> list[list[Any]]:
    """Every row of each statement, run in order in one transaction (the group's).

    Several statements of one caller stay together and in order (a lock, then
    a statement whose snapshot must be newer than it), and commit together.
    """
    limit = settings.ASYNC_DB_GROUP_COMMITTERS
    if limit == 0:
        return await async_db.run(lambda conn: _run_in_transaction(conn, statements))
    loop = asyncio.get_running_loop()
    group = _groups.get(loop)
    if group is None:
        group = _groups[loop] = _Group()
    work = _Work(lock_order, statements, loop.create_future(), batch)
    group.waiting.append(work)
    if group.committing < limit:
        group.committing += 1
        task = loop.create_task(_commit_waiting(group), name="tatartours-group-commit")
        group.tasks.add(task)
        task.add_done_callback(group.tasks.discard)
    return await work.future


async def _execute(conn: async_db.Connection, statements: Sequence[Statement]) -> list[Any]:
    return [await conn.execute(sql, params) for sql, params in statements]


async def _run_in_transaction(
    conn: async_db.Connection, statements: Sequence[Statement]
) -> list[list[Any]]:
    if len(statements) == 1:
        cursors = await _execute(conn, statements)
    else:
        # Pipelined: BEGIN, the statements and COMMIT in one round trip, not one each.
        async with conn.pipeline(), conn.transaction():
            cursors = await _execute(conn, statements)
    return [await _rows(cursor) for cursor in cursors]


async def _rows(cursor: Any) -> list[Any]:
    # A statement without a result (e.g. a bare UPDATE) has no rows to fetch.
    return await cursor.fetchall() if cursor.description is not None else []


async def _commit_waiting(group: _Group) -> None:
    """Commit groups while work waits: each group takes all that waits now."""
    try:
        while group.waiting:
            most = settings.ASYNC_DB_GROUP_MAX
            taken, group.waiting[:most] = group.waiting[:most], []
            works = [work for work in taken if not work.future.done()]
            if works:
                await _commit(works)
    finally:
        # No await between the last look at `waiting` and this.
        group.committing -= 1


async def _commit(works: list[_Work]) -> None:
    works.sort(key=attrgetter("lock_order"))
    try:
        async with async_db.connection() as conn:
            if len(works) == 1:
                await _run_alone(conn, works[0])
                return
            try:
                if _one_batch(works):
                    results = await _run_batched(conn, works)
                else:
                    results = await _run_together(conn, works)
            except psycopg.Error as error:
                if is_outage(error):
                    raise
                # Rolled back as a whole: nothing of the group was stored.
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    await conn.rollback()
                for work in works:
                    await _run_alone(conn, work)
                return
            for work, rows in zip(works, results, strict=True):
                _resolve(work.future, rows)
    except asyncio.CancelledError:
        for work in works:
            work.future.cancel()
        raise
    except Exception as error:  # an outage: all work not answered yet gets it
        for work in works:
            if not work.future.done():
                work.future.set_exception(error)


async def _run_together(conn: async_db.Connection, works: list[_Work]) -> list[list[list[Any]]]:
    async with conn.pipeline(), conn.transaction():
        cursors = [await _execute(conn, work.statements) for work in works]
    return [[await _rows(cursor) for cursor in of_work] for of_work in cursors]


def _one_batch(works: list[_Work]) -> bool:
    """Every work (sorted) is part of the same Batch, each for a key of its own."""
    first = works[0].batch
    if (
        first is None
        or not settings.ASYNC_DB_GROUP_BATCHES
        or any(w.batch is None or w.batch.batch is not first.batch for w in works)
    ):
        return False
    return all(a.lock_order < b.lock_order for a, b in itertools.pairwise(works))


async def run_batch(conn: async_db.Connection, parts: Sequence[BatchRow]) -> list[Row]:
    """One `Batch`'s statement for `parts` (in lock order, one `Batch`): each part's row,
    or None where its statement alone would return none."""
    batch = parts[0].batch
    rows = [{**part.values, "ord": ord_} for ord_, part in enumerate(parts)]
    cursor = await conn.execute(batch.sql, {**batch.shared, "rows": Jsonb(rows)})
    found = {row[0]: row[1:] for row in await cursor.fetchall()}
    return [found.get(ord_) for ord_ in range(len(parts))]


async def _run_batched(conn: async_db.Connection, works: list[_Work]) -> list[list[list[Any]]]:
    parts = [work.batch for work in works if work.batch is not None]
    assert len(parts) == len(works)  # _one_batch
    return [[[] if row is None else [row]] for row in await run_batch(conn, parts)]


async def _run_alone(conn: async_db.Connection, work: _Work) -> None:
    try:
        rows = await _run_in_transaction(conn, work.statements)
    except psycopg.Error as error:
        if is_outage(error):
            raise
        if not work.future.done():
            work.future.set_exception(error)
        return
    _resolve(work.future, rows)


def _resolve(future: asyncio.Future[list[list[Any]]], rows: list[list[Any]]) -> None:
    if not future.done():  # a caller cancelled after its group was sent
        future.set_result(rows)
