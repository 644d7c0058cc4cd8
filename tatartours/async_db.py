"""Native async PostgreSQL on the event loop: psycopg 3's `AsyncConnectionPool`, no DB thread.

The message path (tatartours/db_health.py says why the one `database_sync_to_async`
thread is its bottleneck) runs its statements here, on the event loop of the
process: one pool per event loop (a server process has one; each test has
its own), opened lazily on first use with the connection settings of
`settings.DATABASES["default"]` at that moment (under pytest: the test
database), sized by ASYNC_DB_POOL_MIN / ASYNC_DB_POOL_MAX.

Connections are in autocommit: a unit of work is one statement (a CTE
where it writes several rows), or a transaction opened and committed inside
it (tatartours/group_commit.py: the messages of the moment, one pipeline),
so no transaction is left open between units of work.

Outages behave as on the DB thread, with the same state (`db_health.health`),
so both paths agree on whether PostgreSQL is down:

- while it is known down, `run` raises `DatabaseUnavailable` at once and
  runs nothing;
- a statement that fails with a connection-level error marks it down (and
  starts the probe);
- a checkout that waits longer than SUSPECT_AFTER asks PostgreSQL itself
  (one fresh connection and `SELECT 1`, shared by every waiting caller of
  the loop): if it does not answer, the database is marked down and every
  waiter gets `DatabaseUnavailable` when its wait slice (SUSPECT_AFTER)
  ends, sooner than the pool timeout did; if it answers, the pool is
  only busy (a burst of messages on a loaded machine), and the checkout
  keeps waiting, asking again every SUSPECT_AFTER, up to
  ASYNC_DB_CHECKOUT_LIMIT (then `OperationalError`, without marking the
  database down). A burst must not look like an outage: before, every
  checkout longer than the pool timeout (1 s) marked PostgreSQL down and
  the whole process answered `unavailable` while it answered fine;
- one that got its connection after the outage was noticed sends nothing,
  so `unavailable` still means "not stored";
- a statement already sent is never cancelled midway (it may have
  committed): it ends by itself, as a running DB hop does.

psycopg's outage errors reach callers as Django's `OperationalError` (the
transports' DEPENDENCY_ERRORS answer `unavailable` to those), with the
psycopg error as the cause.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import OperationalError, connections
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from tatartours.db_health import SUSPECT_AFTER, DatabaseUnavailable, health, is_outage

logger = logging.getLogger(__name__)

R = TypeVar("R")
Connection = psycopg.AsyncConnection[Any]


class _LoopPool:
    """The pool of one event loop, and the connections it made (to close them without it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: AsyncConnectionPool[Any]) -> None:
        self.loop = loop
        self.pool = pool
        self.connections: weakref.WeakSet[Connection] = weakref.WeakSet()


_current: _LoopPool | None = None
# Every pool opened and not closed yet, of any loop: `close` closes all of its
# loop's, also one that stopped being `_current` (a test's other loop took
# over), whose maintenance tasks would otherwise outlive the loop's teardown.
_open: list[_LoopPool] = []


def connection_kwargs() -> dict[str, Any]:
    """psycopg connection parameters from Django's settings of the default database, now."""
    db = connections["default"].settings_dict
    options = db.get("OPTIONS", {})
    kwargs: dict[str, Any] = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "connect_timeout": options.get("connect_timeout", 3),
        # Timestamps come back in UTC, as Django's connections set them. Generic plans
        # from the first run: every statement here looks rows up by key, so a plan
        # made for the parameters of the moment is never better, and PostgreSQL's
        # default makes five such custom plans per statement and connection first.
        "options": "-c TimeZone=UTC -c plan_cache_mode=force_generic_plan",
        "autocommit": True,
        "prepare_threshold": settings.ASYNC_DB_PREPARE_THRESHOLD,
    }
    return {key: value for key, value in kwargs.items() if value is not None}


def _make_pool(loop: asyncio.AbstractEventLoop) -> _LoopPool:
    holder: _LoopPool

    async def configure(conn: Connection) -> None:
        holder.connections.add(conn)

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        kwargs=connection_kwargs(),
        min_size=settings.ASYNC_DB_POOL_MIN,
        max_size=settings.ASYNC_DB_POOL_MAX,
        timeout=settings.ASYNC_DB_POOL_TIMEOUT,
        reconnect_timeout=settings.ASYNC_DB_POOL_RECONNECT_TIMEOUT,
        configure=configure,
        # Opened below, on this loop, without waiting for min_size connections:
        # a first message during an outage must not wait for them.
        open=False,
        name="tatartours-async",
    )
    holder = _LoopPool(loop, pool)
    _open.append(holder)
    return holder


async def pool() -> AsyncConnectionPool[Any]:
    """The running loop's pool, opened on first use (a pool of another loop is dropped)."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is not None and _current.loop is not loop:
        discard_stale()
        if _current is not None:  # its loop still runs: close it there
            stale, _current = _current, None
            stale.loop.call_soon_threadsafe(asyncio.ensure_future, stale.pool.close())
    if _current is None:
        _current = _make_pool(loop)
        await _current.pool.open(wait=False)
    return _current.pool


def discard_stale() -> None:
    """Forget the pools whose event loop has closed, closing their connections' sockets now.

    A test's loop closes with its pool still open; awaiting the pool's close
    is no longer possible there, so each connection's libpq handle is
    finished directly (`pgconn.finish()`, psycopg's public low-level API).
    """
    global _current
    for stale in [holder for holder in _open if holder.loop.is_closed()]:
        _open.remove(stale)
        if _current is stale:
            _current = None
        for conn in list(stale.connections):
            if not conn.closed:
                conn.pgconn.finish()


async def close() -> None:
    """Close every pool of the running loop (tests; a server's pool lives as long as the
    process), and forget those of loops that have closed."""
    global _current
    loop = asyncio.get_running_loop()
    mine = [holder for holder in _open if holder.loop is loop]
    for holder in mine:
        _open.remove(holder)
        if _current is holder:
            _current = None
    await asyncio.gather(*(holder.pool.close() for holder in mine), return_exceptions=True)
    discard_stale()


async def run(work: Callable[[Connection], Awaitable[R]]) -> R:
    """Run `work` on a pooled connection (autocommit), unless PostgreSQL is known down.

    Raises `DatabaseUnavailable` without running `work` while it is down.
    The checkout waits while PostgreSQL answers (`_checkout`). A
    connection-level failure marks the database down and reaches the caller
    as Django's `OperationalError`; a slow call starts the probe.
    """
    async with connection() as conn:
        return await work(conn)


@asynccontextmanager
async def connection() -> AsyncIterator[Connection]:
    """A pooled connection (autocommit) for one unit of work, with the outage rules of `run`."""
    health.attach()
    if health.down:
        health.ensure_probe()
        raise DatabaseUnavailable("PostgreSQL is unavailable")
    the_pool = await pool()
    started = time.monotonic()
    conn = await _checkout(the_pool)
    try:
        if health.down:
            # Noticed while this checkout waited: nothing is sent.
            health.ensure_probe()
            raise DatabaseUnavailable("PostgreSQL is unavailable")
        yield conn
    except psycopg.Error as error:
        _raise_outage_as_django(error)
        raise
    finally:
        await the_pool.putconn(conn)
        if time.monotonic() - started > SUSPECT_AFTER:
            health.ensure_probe()


async def _checkout(the_pool: AsyncConnectionPool[Any]) -> Connection:
    """A pooled connection, waited for while PostgreSQL answers.

    Waits in slices of SUSPECT_AFTER (the pool's own wait, no task of ours:
    this is every message's path); after each slice without a connection,
    asks PostgreSQL. Raises `DatabaseUnavailable` when it does not answer or
    is known down, and `OperationalError` after ASYNC_DB_CHECKOUT_LIMIT of a
    busy pool.
    """
    limit = settings.ASYNC_DB_CHECKOUT_LIMIT
    deadline = time.monotonic() + limit
    while True:
        try:
            return await the_pool.getconn(
                timeout=max(0.01, min(SUSPECT_AFTER, deadline - time.monotonic()))
            )
        except PoolTimeout as error:
            if health.down or not await health.answers():
                raise DatabaseUnavailable("PostgreSQL is unavailable") from error
            if time.monotonic() >= deadline:
                # PostgreSQL answered every time it was asked: busy, not down.
                raise OperationalError(f"no database connection within {limit:.1f} s") from error
        except psycopg.Error as error:
            _raise_outage_as_django(error)
            raise


def _raise_outage_as_django(error: psycopg.Error) -> None:
    """An outage marks the database down and is raised as Django's OperationalError;
    any other error is left to the caller to raise. (A checkout's PoolTimeout is
    `_checkout`'s to judge: a busy pool is not an outage.)"""
    if not is_outage(error):
        return
    health.mark_down(error)
    raise OperationalError(str(error)) from error
