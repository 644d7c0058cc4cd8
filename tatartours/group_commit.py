"""Group commit: the message statements of the same moment in one transaction.

Every chat message is one statement (chat/message_rows.py,
support/request_rows.py). Run one by one in autocommit, each pays its own
checkout, network round trip, transaction and WAL flush; under load, many
wait for a connection at the same instant anyway. Here the statements that
are waiting when a connection is ready go together: one checkout, one
pipeline (psycopg's pipeline mode: every statement sent before any result
is read), one transaction, one commit. Each caller gets its own row only
after that commit, so an ack still means "stored".

Measured on this machine (docs/benchmarks.md, "Group commit"): the visitor
message statement's shape, 25 concurrent writers, costs 0.12 ms of client
CPU and 0.12 ms of PostgreSQL CPU per statement alone, 0.05 and 0.03-0.05
grouped.

The rules that keep it the same as one statement each:

- at most ASYNC_DB_GROUP_COMMITTERS groups are in flight per event loop
  (0: none, every statement runs alone through `async_db.run`); a statement
  that finds one free starts a group at once, so an idle process adds no
  wait; the others wait for the next group, which takes every statement
  waiting then (up to MAX_GROUP);
- statements take their row locks in `lock_order` (the chat's public id):
  two groups that lock the same chats lock them in the same order and
  cannot deadlock each other;
- a statement whose caller was cancelled before its group was sent is not
  sent (as `async_db.run` sends nothing after a cancelled checkout);
- when one statement fails (not an outage), the transaction took the others
  with it, so nothing was stored: each runs again alone, and only the one
  that fails gets its error;
- an outage ends the group as it ends one statement: every caller gets
  `DatabaseUnavailable` or Django's `OperationalError` (tatartours/async_db.py);
  a group whose commit was sent may have committed, as a statement may, and
  the client's retry with the same client_id is deduplicated by the statement.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import psycopg
from django.conf import settings
from psycopg.pq import TransactionStatus

from tatartours import async_db
from tatartours.db_health import is_outage

# A bound on one transaction: its locks are held until the last statement ran.
MAX_GROUP = 50

Row = Sequence[Any] | None


@dataclass
class _Statement:
    lock_order: str
    sql: str
    params: Mapping[str, Any]
    future: asyncio.Future[Row]


@dataclass
class _Group:
    waiting: list[_Statement] = field(default_factory=list)
    committers: set[asyncio.Task[None]] = field(default_factory=set)


_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Group] = weakref.WeakKeyDictionary()


async def fetchone(sql: str, params: Mapping[str, Any], *, lock_order: str) -> Row:
    """The first row of one autocommit-equivalent statement, run with others of the moment.

    Raises what `async_db.run` raises for the statement alone: `DatabaseUnavailable`,
    Django's `OperationalError` for an outage, the psycopg error of the statement.
    """
    limit = settings.ASYNC_DB_GROUP_COMMITTERS
    if limit == 0:
        return await async_db.run(lambda conn: _fetchone(conn, sql, params))
    loop = asyncio.get_running_loop()
    group = _groups.get(loop)
    if group is None:
        group = _groups[loop] = _Group()
    statement = _Statement(lock_order, sql, params, loop.create_future())
    group.waiting.append(statement)
    if len(group.committers) < limit:
        task = loop.create_task(_commit_waiting(group), name="tatartours-group-commit")
        group.committers.add(task)
        task.add_done_callback(group.committers.discard)
    return await statement.future


async def _fetchone(conn: async_db.Connection, sql: str, params: Mapping[str, Any]) -> Row:
    cursor = await conn.execute(sql, params)
    return await cursor.fetchone()


async def _commit_waiting(group: _Group) -> None:
    """Commit groups while statements wait: each group takes all that wait now."""
    while group.waiting:
        taken, group.waiting[:MAX_GROUP] = group.waiting[:MAX_GROUP], []
        statements = [statement for statement in taken if not statement.future.done()]
        if statements:
            await _commit(statements)


async def _commit(statements: list[_Statement]) -> None:
    statements.sort(key=attrgetter("lock_order"))
    try:
        async with async_db.connection() as conn:
            if len(statements) == 1:
                await _run_alone(conn, statements[0])
                return
            try:
                rows = await _run_together(conn, statements)
            except psycopg.Error as error:
                if is_outage(error):
                    raise
                # Rolled back as a whole: nothing of the group was stored.
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    await conn.rollback()
                for statement in statements:
                    await _run_alone(conn, statement)
                return
            for statement, row in zip(statements, rows, strict=True):
                _resolve(statement.future, row)
    except asyncio.CancelledError:
        for statement in statements:
            statement.future.cancel()
        raise
    except Exception as error:  # an outage: every statement not answered yet gets it
        for statement in statements:
            if not statement.future.done():
                statement.future.set_exception(error)


async def _run_together(conn: async_db.Connection, statements: list[_Statement]) -> list[Row]:
    async with conn.pipeline(), conn.transaction():
        cursors = [await conn.execute(s.sql, s.params) for s in statements]
    return [await cursor.fetchone() for cursor in cursors]


async def _run_alone(conn: async_db.Connection, statement: _Statement) -> None:
    try:
        row = await _fetchone(conn, statement.sql, statement.params)
    except psycopg.Error as error:
        if is_outage(error):
            raise
        if not statement.future.done():
            statement.future.set_exception(error)
        return
    _resolve(statement.future, row)


def _resolve(future: asyncio.Future[Row], row: Row) -> None:
    if not future.done():  # a caller cancelled after its group was sent
        future.set_result(row)
