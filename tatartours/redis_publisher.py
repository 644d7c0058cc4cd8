"""PUBLISH, pipelined on one connection: what the channel layer sends through Redis.

Every group message of the chat is one PUBLISH. Through redis-py's client
each one takes a connection from the pool, runs the retry wrapper, checks
the connection's health, parses the reply and records its observability
attributes: 70-146 µs of CPU per PUBLISH on this machine, against 12-79 µs
written as a pipeline on one connection (`python -m bench.publish_floor`;
docs/benchmarks.md). The relay profile had 15% of the servers' samples in
redis-py's `execute_command`.

So the layer's publishes queue here; one writer task per event loop sends
whatever queued while the previous batch was on the wire as one write
(redis-py's public `Connection.pack_commands` / `send_packed_command`) and
reads the replies in order. Under load the batches grow by themselves;
alone, a PUBLISH costs one round trip as before. One connection also keeps
this process's publishes in the order they were made.

Failures keep the guarantees of the client it replaces: a connection error
or a timeout is retried with the host's `Retry` (tatartours/redis.py; the
unanswered commands only, on a fresh connection), and when the retries run
out every waiting caller gets the error. A PUBLISH whose reply was lost may
be sent twice, as with redis-py's own retries: receivers tolerate a
duplicate (frames carry message ids; docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)


class Publisher:
    """Pipelined PUBLISH on one redis-py `Connection` of one event loop."""

    def __init__(self, connection: Connection, retry: Retry | None) -> None:
        self._conn = connection
        self._retry = retry or Retry(NoBackoff(), 0)
        self._queue: list[tuple[bytes, bytes, asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._stale = False  # Redis went away since the connection was opened

    async def publish(self, channel: bytes, data: bytes) -> int:
        """PUBLISH `data` on `channel`; returns how many subscribers Redis counted."""
        if self._closed:
            raise RedisConnectionError("the publisher is closed")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((channel, data, future))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return await future

    def connection_lost(self) -> None:
        """Redis went away (the layer's subscriber saw its connection drop): the next
        batch opens a fresh connection instead of failing once on the dead one first.

        Without it, after a Redis restart the first PUBLISH of a quiet process
        was written to the dead socket, failed and was retried (the fault suite
        counted the retry's log line as an error 5 s after Redis was back).
        """
        self._stale = True

    async def aclose(self) -> None:
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        self._fail(self._queue, RedisConnectionError("the publisher is closed"))
        self._queue = []
        await self._conn.disconnect()

    async def _write(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                # Callers that gave up (cancelled) need no PUBLISH.
                batch = [item for item in batch if not item[2].done()]
                if batch:
                    await self._send(batch)
        finally:
            self._writer = None
            if self._queue and not self._closed:
                # Queued while the last batch failed its callers: send those too.
                self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _send(self, batch: list[tuple[bytes, bytes, asyncio.Future[int]]]) -> None:
        unanswered = batch  # _round_trip drops each command from it once answered

        async def attempt() -> None:
            await self._round_trip(unanswered)

        async def reset(error: Exception) -> None:
            logger.info("PUBLISH interrupted (%r); retrying on a fresh connection", error)
            await self._conn.disconnect()

        try:
            await self._retry.call_with_retry(attempt, reset)
        except asyncio.CancelledError:
            await self._conn.disconnect()
            self._fail(unanswered, RedisConnectionError("the publisher was stopped"))
            raise
        except Exception as error:
            # Out of retries, or a reply Redis refused: these callers get the
            # error; the connection's state is unknown, so it starts afresh.
            logger.warning("PUBLISH failed (%r)", error)
            await self._conn.disconnect()
            self._fail(unanswered, error)

    async def _round_trip(self, batch: list[tuple[bytes, bytes, asyncio.Future[int]]]) -> None:
        """Send what is in `batch` and read the replies, dropping each answered command."""
        conn = self._conn
        if self._stale:
            self._stale = False
            await conn.disconnect()
        if not conn.is_connected:
            await conn.connect()
        commands = [("PUBLISH", channel, data) for channel, data, _ in batch]
        await conn.send_packed_command(conn.pack_commands(commands), check_health=False)
        while batch:
            reply: Any = await conn.read_response()
            _, _, future = batch.pop(0)
            if not future.done():
                future.set_result(int(reply))

    @staticmethod
    def _fail(batch: list[tuple[bytes, bytes, asyncio.Future[int]]], error: Exception) -> None:
        for _, _, future in batch:
            if not future.done():
                future.set_exception(error)
