"""One process's view of PostgreSQL: notice an outage once, then fail fast for everyone.

Every `database_sync_to_async` call of a process runs on one thread. When
PostgreSQL is unreachable, each hop would wait a full pool timeout there,
and every hop queued behind it would wait for all those before it: messages
hung for tens of seconds with neither ack nor error. Instead:

- a hop that fails with a connection-level error (no connection, the server
  gone or shutting down, the pool's checkout timeout) marks the database
  down for the whole process;
- a hop that takes longer than SUSPECT_AFTER makes the event loop probe
  PostgreSQL with its own short connection (not the pool, not the thread);
  a failed probe marks it down too;
- while it is down, a hop not yet started is never started: its caller gets
  `DatabaseUnavailable` (an `OperationalError`, so the transports answer
  `unavailable`) at once, and nothing was written;
- the probe runs every PROBE_EVERY until a connection and `SELECT 1`
  succeed, then the process uses the database again.

A hop already running when the outage starts ends by itself within the
pool timeout (DB_POOL_TIMEOUT); nothing is cancelled midway, so
`unavailable` still means "not stored".
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

R = TypeVar("R")

SUSPECT_AFTER = 0.5  # seconds a hop may take before the loop probes PostgreSQL
PROBE_TIMEOUT = 1.0  # seconds for the probe's connect and SELECT 1
PROBE_EVERY = 0.5  # seconds between probes while the database is down
_POLL = 0.1  # how often a waiting caller looks at the state

# SQLSTATEs that mean the server is unreachable rather than the statement wrong:
# class 08 (connection exception) and 57P.. (admin/crash shutdown, cannot connect
# now); not 57014 (query_canceled, e.g. a statement timeout).
_OUTAGE_SQLSTATE_CLASSES = ("08", "57P")


class DatabaseUnavailable(OperationalError):
    """PostgreSQL is known to be down in this process; the hop was not run."""


class _Health:
    def __init__(self) -> None:
        self.down_since: float | None = None
        self._last_failure = 0.0
        self._probe: asyncio.Task[None] | None = None
        self._check: asyncio.Task[BaseException | None] | None = None  # `answers`
        self._loop: asyncio.AbstractEventLoop | None = None  # where the probe runs

    @property
    def down(self) -> bool:
        if self.down_since is None:
            return False
        if self._loop is None or self._loop.is_closed():
            # No event loop to probe from (a management command): let one
            # attempt through now and then; it marks the database down again.
            return time.monotonic() - self._last_failure < PROBE_EVERY
        return True

    def mark_down(self, reason: object) -> None:
        """From any thread; the probe then runs on the event loop."""
        self._last_failure = time.monotonic()
        if self.down_since is None:
            self.down_since = self._last_failure
            logger.warning("PostgreSQL unavailable (%s); failing fast until it answers", reason)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self.ensure_probe()
            else:
                loop.call_soon_threadsafe(self.ensure_probe)

    def mark_up(self) -> None:
        if self.down_since is not None:
            took = time.monotonic() - self.down_since
            self.down_since = None
            logger.warning("PostgreSQL answers again after %.1f s", took)

    def attach(self) -> None:
        """Probe from the running loop (each process has one; tests have one per test)."""
        self._loop = asyncio.get_running_loop()

    async def answers(self) -> bool:
        """Whether PostgreSQL answers a fresh connection now; marks it down if not.

        For callers that waited long for the pool: one probe at a time per
        event loop, shared by all who ask while it runs (a burst of waiters
        must not open a connection each).
        """
        loop = asyncio.get_running_loop()
        check = self._check
        if check is None or check.done() or check.get_loop() is not loop:
            check = self._check = loop.create_task(probe())
        error = await asyncio.shield(check)
        if error is not None:
            self.mark_down(error)
            return False
        return not self.down

    def ensure_probe(self) -> None:
        """Start the probe on this loop unless one runs there (a test's loop may have closed
        with its probe unfinished)."""
        loop = asyncio.get_running_loop()
        if self._probe is None or self._probe.done() or self._probe.get_loop() is not loop:
            self._probe = loop.create_task(self._probe_until_up())

    async def until_up(self) -> None:
        """Wait until the probe finds the database (at once if it is not known down)."""
        if self.down:
            self.ensure_probe()
            assert self._probe is not None
            await asyncio.shield(self._probe)

    async def _probe_until_up(self) -> None:
        while True:
            error = await probe()
            if error is None:
                self.mark_up()
                return
            self.mark_down(error)
            await asyncio.sleep(PROBE_EVERY)


health = _Health()


def is_outage(error: BaseException) -> bool:
    """True if `error` says the server is unreachable, not that a statement failed."""
    if isinstance(error, DatabaseUnavailable):
        return True
    if not isinstance(error, OperationalError | InterfaceError | psycopg.Error):
        return False
    cause = error if isinstance(error, psycopg.Error) else error.__cause__
    if not isinstance(cause, psycopg.Error):
        return isinstance(error, InterfaceError)
    state = cause.sqlstate
    return state is None or state.startswith(_OUTAGE_SQLSTATE_CLASSES)


async def probe() -> BaseException | None:
    """Open a fresh connection and run SELECT 1 within PROBE_TIMEOUT; the error, if any."""
    db = connections["default"].settings_dict
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            conn = await psycopg.AsyncConnection.connect(
                dbname=db["NAME"],
                user=db.get("USER") or None,
                password=db.get("PASSWORD") or None,
                host=db.get("HOST") or None,
                port=db.get("PORT") or None,
                connect_timeout=max(2, int(PROBE_TIMEOUT) + 1),  # ours is the real bound
                autocommit=True,
            )
            try:
                await conn.execute("SELECT 1")
            finally:
                await conn.close()
    except (OSError, TimeoutError, psycopg.Error) as error:
        return error
    return None


class _Gate:
    """Decides, under a lock, whether a queued hop starts or is abandoned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "queued"  # -> "started" (on the DB thread) or "abandoned" (by the caller)

    def start(self) -> bool:
        with self._lock:
            if self._state == "abandoned":
                return False
            self._state = "started"
            return True

    def abandon(self) -> bool:
        with self._lock:
            if self._state == "started":
                return False
            self._state = "abandoned"
            return True


async def run_db(fn: Callable[[], R]) -> R:
    """Run `fn` on the DB thread, unless PostgreSQL is known to be down.

    Raises `DatabaseUnavailable` without running `fn` while it is down, also
    for a call that was still queued behind others when the outage was
    noticed.
    """
    health.attach()
    if health.down:
        health.ensure_probe()
        raise DatabaseUnavailable("PostgreSQL is unavailable")
    gate = _Gate()

    def guarded() -> R:
        if not gate.start() or health.down:
            raise DatabaseUnavailable("PostgreSQL is unavailable")
        try:
            return fn()
        except Exception as error:
            if is_outage(error):
                health.mark_down(error)
            raise

    hop = asyncio.ensure_future(database_sync_to_async(guarded)())
    started = time.monotonic()
    try:
        while True:
            done, _pending = await asyncio.wait({hop}, timeout=_POLL)
            if done:
                break
            if health.down:
                health.ensure_probe()
                if gate.abandon():
                    raise DatabaseUnavailable("PostgreSQL is unavailable")
            elif time.monotonic() - started > SUSPECT_AFTER:
                health.ensure_probe()
    except BaseException:
        # Abandoned or cancelled: the hop never starts (or ends by itself); its
        # outcome is nobody's, so retrieve it to keep asyncio quiet.
        gate.abandon()
        hop.add_done_callback(_retrieve)
        raise
    try:
        return hop.result()
    except Exception as error:
        if health.down or is_outage(error):
            health.ensure_probe()
        raise


def _retrieve(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()
