"""A Redis pub/sub channel layer that tells a consumer when its events were lost.

The chat's default layer (issue 16). Why our own and not channels-redis's
`RedisPubSubChannelLayer` (the same transport, 1.8-2.2x the core layer at
the relay floor): in channels-redis 4.3 its receive task logs and swallows
Redis errors and redis-py's `PubSub` resubscribes by itself on reconnect,
so a socket whose events were lost in a Redis restart is never told and
never resyncs; its `new_channel` subscribes, so a socket opened while Redis
is down fails before the handshake (HTTP 500). Making that right needs its
internals. This layer is small and uses only public APIs: Channels'
`BaseChannelLayer` interface and redis-py's asyncio `Connection`
(`connect`, `send_command`, `read_response`, `disconnect`) and client.

How it works, per event loop (a process has one; tests have one per test):

- Channels are process-local queues. `new_channel` touches no Redis (a
  consumer can always start, and is told below if Redis is away).
- One subscription connection ("link") carries everything this process
  receives: one Redis channel per group that has a local member
  (SUBSCRIBE on the first member, UNSUBSCRIBE after the last), one inbox
  for `send` to this process's channels from elsewhere, and plain channel
  names that are received here. `group_add` returns once Redis confirmed
  the SUBSCRIBE: a message published after it is delivered (the chat joins
  a group before reading the history, chat/consumers.py).
- `group_send` is one PUBLISH, pipelined with the process's other
  publishes on one connection (tatartours/redis_publisher.py; with the
  retries of tatartours/redis.connection_options); members in this process
  get the message at once, without waiting for Redis, and this process
  skips its own copy when Redis echoes it (the payload carries the
  sender's id).
- The link is never resubscribed behind anyone's back. When it fails
  (Redis down, restarted, or silent past the health check), every channel
  attached to it gets exactly one `{"type": "layer.lost"}` event and then
  nothing more; its group memberships are gone. The socket shell answers
  `unavailable` and closes with 1013 (chat/transport.py, `layer_lost`), the
  client reconnects and resyncs by message id. The next consumer opens a
  new link. A link that cannot be opened is lost the same way, so a socket
  opened while Redis is down is refused clearly, not with HTTP 500.
- Postgres is the truth and the layer may drop: a full channel drops
  group messages (as every Channels layer does); `send` raises ChannelFull.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import msgpack
import redis.asyncio as aioredis
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer
from redis.asyncio.connection import Connection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from tatartours.channel_layer import LAYER_LOST
from tatartours.redis_publisher import Publisher

logger = logging.getLogger(__name__)

# What a route on the link delivers to.
_GROUP, _INBOX, _PLAIN = 0, 1, 2
# The sender id that prefixes a group payload (bytes of hex).
_SENDER_BYTES = 16


class _Lost:
    """Put in a channel's queue when its link failed; received as one `layer.lost`."""


_LOST = _Lost()


@dataclass(eq=False)
class _Link:
    """One subscription connection and what it is subscribed to."""

    conn: Connection
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    alive: bool = True
    error: BaseException | None = None
    # Redis channel name -> (kind, name); confirmed or on its way.
    routes: dict[bytes, tuple[int, str]] = field(default_factory=dict)
    # SUBSCRIBEs sent and not confirmed yet; True = confirmed, False = the link died.
    pending: dict[bytes, asyncio.Future[bool]] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    last_read: float = 0.0


@dataclass(eq=False)
class _Channel:
    queue: asyncio.Queue[Any]
    link: _Link
    groups: set[str] = field(default_factory=set)
    lost: bool = False  # its link failed; `layer.lost` is queued or was received
    told: bool = False  # `layer.lost` was received: nothing more, ever
    waiting: int = 0  # receives in progress
    receives: int = 0  # receives started, to tell a forgotten channel from a live one


@dataclass(eq=False)
class _LoopState:
    sender: bytes
    channels: dict[str, _Channel] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    link: _Link | None = None
    publisher: Publisher | None = None


class PubSubChannelLayer(BaseChannelLayer):
    extensions = ["groups", "flush"]

    def __init__(
        self,
        hosts: list[dict[str, Any] | str] | None = None,
        prefix: str = "asgi",
        expiry: int = 60,
        capacity: int = 100,
        channel_capacity: dict[str, int] | None = None,
        subscribe_timeout: float = 5.0,
        local_delivery: bool = True,
    ) -> None:
        super().__init__(expiry=expiry, capacity=capacity, channel_capacity=channel_capacity)
        # Patterns -> capacity, compiled as BaseChannelLayer.get_capacity reads them.
        self.channel_capacity: list[tuple[Any, int]] = self.compile_capacities(
            channel_capacity or {}
        )
        hosts = hosts or [{"address": "redis://127.0.0.1:6379/0"}]
        if len(hosts) != 1:
            # One Redis is the deployment (docs/deployment.md); sharding pub/sub
            # would only multiply connections.
            raise ValueError("PubSubChannelLayer takes exactly one host")
        host = {"address": hosts[0]} if isinstance(hosts[0], str) else dict(hosts[0])
        self.address: str = host.pop("address")
        # The host's redis-py options (timeouts, retries, health checks).
        self.host_options: dict[str, Any] = host
        self.prefix = prefix
        # Redis pub/sub knows no databases: a PUBLISH reaches the subscribers
        # of every database number. The number is part of every Redis channel
        # name, so that deployments and test runs kept apart by REDIS_URL's
        # database stay apart, as they do with the list-based layer (two runs
        # on db 10 and 12 of one Redis got each other's operator broadcasts).
        self.namespace = f"{prefix}:{parse_url(self.address).get('db') or 0}"
        self.subscribe_timeout = subscribe_timeout
        # Members in this process get a group message at once instead of
        # through Redis (docs/benchmarks.md has what it saves); off, every
        # member waits for Redis's copy, as with channels-redis's layers.
        self.local_delivery = local_delivery
        # The link's idle health check: a PING when nothing was read for this
        # long, and the link is lost when even that gets no answer.
        self.health_check_interval: float = float(host.get("health_check_interval") or 0)
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    # --- the Channels layer interface -------------------------------------------------

    async def new_channel(self, prefix: str = "specific.") -> str:
        state = self._state()
        name = f"{self.prefix}.{prefix}{state.sender.decode()}!{uuid.uuid4().hex}"
        self._attach(state, name)
        return name

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        state = self._state()
        payload = msgpack.packb(message)
        local = state.channels.get(channel)
        if local is not None:
            if local.lost:
                return
            if local.queue.full():
                raise ChannelFull(channel)
            local.queue.put_nowait(msgpack.unpackb(payload))
            return
        if "!" in channel:
            if self._is_ours(state, channel):
                return  # one of ours that ended: nobody to deliver to
            key = self._inbox_key(channel)
            await self._publish(state, key, channel.encode() + b"\0" + payload)
        else:
            await self._publish(state, self._plain_key(channel), payload)

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        state = self._state()
        local = state.channels.get(channel)
        if local is None:
            local = self._attach(state, channel)
        if "!" not in channel and not local.lost:
            key = self._plain_key(channel)
            if key not in local.link.routes:
                # On failure the link is lost and `layer.lost` is queued for this channel.
                with contextlib.suppress(Exception):
                    await self._subscribe(state, local.link, key, (_PLAIN, channel))
        local.receives += 1
        local.waiting += 1
        try:
            if local.told:
                await asyncio.Future()  # Never returns; cancelled when the consumer ends.
            message = await local.queue.get()
        except asyncio.CancelledError:
            local.waiting -= 1
            self._ended(state, channel, local)
            raise
        local.waiting -= 1
        if message is _LOST:
            local.told = True
            return dict(LAYER_LOST)
        result: dict[str, Any] = message
        return result

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        state = self._state()
        local = state.channels.get(channel)
        if local is None:
            local = self._attach(state, channel)
        if local.lost:
            return  # told (or about to be told) `layer.lost`: it is closing
        state.groups.setdefault(group, set()).add(channel)
        local.groups.add(group)
        await self._subscribe(state, local.link, self.group_key(group), (_GROUP, group))

    async def group_discard(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        state = self._state()
        local = state.channels.get(channel)
        if local is not None:
            local.groups.discard(group)
        await self._leave(state, group, channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        state = self._state()
        payload = msgpack.packb(message)
        members = state.groups.get(group) if self.local_delivery else None
        if members:
            # Here at once; our own copy coming back from Redis is skipped.
            for channel in list(members):
                self._deliver(state, channel, payload)
        await self._publish(state, self.group_key(group), state.sender + payload)

    async def flush(self) -> None:
        """Forget every channel and group of this event loop, and its link (no `layer.lost`)."""
        state = self._state()
        link, state.link = state.link, None
        state.channels.clear()
        state.groups.clear()
        if link is not None:
            link.alive = False
            await self._shut(link)

    async def close(self) -> None:
        await self.flush()
        state = self._state()
        if state.publisher is not None:
            publisher, state.publisher = state.publisher, None
            await publisher.aclose()

    # --- channels ------------------------------------------------------------------------

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            # A state's tasks and connections refer to its loop, so the weak
            # key alone would never let a finished loop go (async_to_sync in a
            # sync caller runs each call on a loop of its own).
            for old in [old for old in self._states if old.is_closed()]:
                del self._states[old]
            state = _LoopState(sender=uuid.uuid4().hex[:_SENDER_BYTES].encode())
            self._states[loop] = state
        return state

    def _attach(self, state: _LoopState, name: str) -> _Channel:
        link = state.link
        if link is None or not link.alive:
            link = self._open_link(state)
        local = _Channel(asyncio.Queue(maxsize=self.get_capacity(name)), link)
        link.channels.add(name)
        state.channels[name] = local
        return local

    def _is_ours(self, state: _LoopState, channel: str) -> bool:
        inbox = channel[: channel.index("!")]
        return inbox.endswith(state.sender.decode())

    def _deliver(self, state: _LoopState, channel: str, payload: bytes) -> None:
        local = state.channels.get(channel)
        if local is None or local.lost:
            return
        if local.queue.full():
            logger.info("channel %s is over capacity; a message was dropped", channel)
            return
        # A copy for each member, as from Redis (no member sees another's changes).
        local.queue.put_nowait(msgpack.unpackb(payload))

    def _ended(self, state: _LoopState, name: str, local: _Channel) -> None:
        """A receive was cancelled: in Channels, the consumer ended.

        A told channel is forgotten at once; another one after `expiry`
        seconds without a new receive (a consumer whose cleanup did not
        finish leaves no group membership behind; a test that timed out
        one receive and receives again keeps its channel).
        """
        if local.told:
            self._forget(state, name, local)
            return
        started = local.receives
        loop = asyncio.get_running_loop()

        def forget_if_idle() -> None:
            if local.receives == started and local.waiting == 0:
                self._forget(state, name, local)

        loop.call_later(self.expiry, forget_if_idle)

    def _forget(self, state: _LoopState, name: str, local: _Channel) -> None:
        if state.channels.get(name) is not local:
            return
        del state.channels[name]
        local.link.channels.discard(name)
        for group in list(local.groups):
            members = state.groups.get(group)
            if members is not None:
                members.discard(name)
                if not members:
                    del state.groups[group]
                    self._unsubscribe(state, local.link, self.group_key(group))
        local.groups.clear()

    async def _leave(self, state: _LoopState, group: str, channel: str) -> None:
        members = state.groups.get(group)
        if members is None or channel not in members:
            return
        members.discard(channel)
        if not members:
            del state.groups[group]
            if state.link is not None:
                self._unsubscribe(state, state.link, self.group_key(group))

    # --- Redis names ------------------------------------------------------------------------

    def group_key(self, group: str) -> bytes:
        """The Redis channel `group`'s messages travel on (`PUBSUB NUMSUB` counts its processes)."""
        return f"{self.namespace}:group:{group}".encode()

    def _plain_key(self, channel: str) -> bytes:
        return f"{self.namespace}:channel:{channel}".encode()

    def _inbox_key(self, channel: str) -> bytes:
        """The inbox of the process that made `channel`: its sender id ends the part before "!"."""
        bang = channel.index("!")
        return self._sender_inbox(channel[bang - _SENDER_BYTES : bang])

    def _sender_inbox(self, sender: str) -> bytes:
        return f"{self.namespace}:inbox:{sender}".encode()

    # --- publishing -------------------------------------------------------------------------

    async def _publish(self, state: _LoopState, key: bytes, data: bytes) -> None:
        publisher = state.publisher
        if publisher is None:
            # Pipelined on one connection (tatartours/redis_publisher.py says
            # why); the host's timeouts and retries as for any redis-py client.
            # The Publisher retries (connect included) with the host's Retry; the
            # connection itself tries once, or each retry would retry its connect.
            options = {**self.host_options, "retry": Retry(NoBackoff(), 0)}
            pool = aioredis.ConnectionPool.from_url(self.address, **options)
            retry = self.host_options.get("retry")
            publisher = state.publisher = Publisher(pool.make_connection(), retry)
        await publisher.publish(key, data)

    # --- the subscription link ---------------------------------------------------------------

    def _open_link(self, state: _LoopState) -> _Link:
        options = dict(self.host_options)
        # The link only reads what Redis pushes: it waits as long as it must
        # (a quiet process), and its own health check below notices a Redis
        # that went silent. redis-py's per-command checks would read
        # concurrently with the reader.
        options["socket_timeout"] = None
        options["health_check_interval"] = 0
        # RESP2: what Redis pushes on a subscribed connection is read as a plain
        # reply ([b"message", channel, data]); redis-py 8 speaks RESP3 by
        # default, where it goes to a push handler instead.
        options["protocol"] = 2
        pool = aioredis.ConnectionPool.from_url(self.address, **options)
        link = _Link(conn=pool.make_connection())
        state.link = link
        self._background(link, self._run_link(state, link))
        return link

    async def _run_link(self, state: _LoopState, link: _Link) -> None:
        try:
            await link.conn.connect()
        except Exception as error:
            self._lose(state, link, error)
            return
        loop = asyncio.get_running_loop()
        link.last_read = loop.time()
        link.ready.set()
        if self.health_check_interval > 0:
            self._background(link, self._check_health(state, link))
        inbox = self._sender_inbox(state.sender.decode())
        self._background(link, self._subscribe_quietly(state, link, inbox))
        conn = link.conn
        try:
            while link.alive:
                response = await conn.read_response(disconnect_on_error=False)
                link.last_read = loop.time()
                kind = response[0]
                if kind == b"message":
                    self._dispatch(state, link, response[1], response[2])
                elif kind == b"subscribe":
                    waiter = link.pending.pop(response[1], None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(True)
                # pong (the health check) and unsubscribe confirmations: nothing to do.
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._lose(state, link, error)

    def _dispatch(self, state: _LoopState, link: _Link, key: bytes, data: bytes) -> None:
        route = link.routes.get(key)
        if route is None:
            return  # unsubscribed a moment ago
        kind, name = route
        if kind == _GROUP:
            if self.local_delivery and data[:_SENDER_BYTES] == state.sender:
                return  # delivered to this process's members when sent
            members = state.groups.get(name)
            if members:
                body = data[_SENDER_BYTES:]
                for channel in list(members):
                    self._deliver(state, channel, body)
        elif kind == _INBOX:
            cut = data.index(b"\0")
            self._deliver(state, data[:cut].decode(), data[cut + 1 :])
        else:
            self._deliver(state, name, data)

    async def _subscribe_quietly(self, state: _LoopState, link: _Link, key: bytes) -> None:
        with contextlib.suppress(Exception):  # on failure the link is lost and said so
            await self._subscribe(state, link, key, (_INBOX, ""))

    async def _subscribe(
        self, state: _LoopState, link: _Link, key: bytes, route: tuple[int, str]
    ) -> None:
        """SUBSCRIBE `key` on `link` (once however many ask) and wait for Redis to confirm."""
        waiter = link.pending.get(key)
        if waiter is None:
            if key in link.routes:
                return  # confirmed before
            link.routes[key] = route
            waiter = asyncio.get_running_loop().create_future()
            link.pending[key] = waiter
            try:
                async with asyncio.timeout(self.subscribe_timeout):
                    await link.ready.wait()
                if not link.alive:
                    raise self._link_error(link)
                await link.conn.send_command("SUBSCRIBE", key, check_health=False)
            except Exception as error:
                self._lose(state, link, error)
                raise self._link_error(link) from error
        try:
            async with asyncio.timeout(self.subscribe_timeout):
                confirmed = await asyncio.shield(waiter)
        except TimeoutError as error:
            # Redis took the connection but does not answer: as good as gone.
            self._lose(state, link, error)
            raise self._link_error(link) from error
        if not confirmed:
            raise self._link_error(link)

    def _unsubscribe(self, state: _LoopState, link: _Link, key: bytes) -> None:
        if not link.alive or link.routes.pop(key, None) is None:
            return
        waiter = link.pending.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(True)  # nobody is left to wait for it
        self._background(link, self._send_unsubscribe(state, link, key))

    async def _send_unsubscribe(self, state: _LoopState, link: _Link, key: bytes) -> None:
        await link.ready.wait()
        # Joined again before this ran: its SUBSCRIBE went out after the last
        # member left, so an UNSUBSCRIBE now would drop the new member's group.
        # (No await between this check and the write: commands leave in order.)
        if key in link.routes:
            return
        await self._send_quietly(state, link, "UNSUBSCRIBE", key)

    async def _send_quietly(self, state: _LoopState, link: _Link, *args: Any) -> None:
        if not link.alive:
            return
        try:
            await link.conn.send_command(*args, check_health=False)
        except Exception as error:
            self._lose(state, link, error)

    def _background(self, link: _Link, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as a task the link holds (asyncio keeps only weak references)."""
        task = asyncio.get_running_loop().create_task(work)
        link.tasks.add(task)
        task.add_done_callback(link.tasks.discard)

    async def _check_health(self, state: _LoopState, link: _Link) -> None:
        interval = self.health_check_interval
        loop = asyncio.get_running_loop()
        while link.alive:
            await asyncio.sleep(interval)
            silent = loop.time() - link.last_read
            if silent > 2 * interval + self.subscribe_timeout:
                self._lose(state, link, TimeoutError(f"no answer from Redis for {silent:.0f} s"))
                return
            if silent >= interval:
                await self._send_quietly(state, link, "PING")

    @staticmethod
    def _link_error(link: _Link) -> RedisConnectionError:
        return RedisConnectionError(f"channel layer lost its Redis connection: {link.error!r}")

    def _lose(self, state: _LoopState, link: _Link, error: BaseException) -> None:
        """The link failed: one `layer.lost` for each of its channels, and a new link next time."""
        if not link.alive:
            return
        link.alive = False
        link.error = error
        link.ready.set()
        if state.link is link:
            state.link = None
        for waiter in link.pending.values():
            if not waiter.done():
                waiter.set_result(False)
        link.pending.clear()
        if state.publisher is not None:
            state.publisher.connection_lost()  # the same Redis: its connection is gone too
        told = 0
        for name in link.channels:
            local = state.channels.get(name)
            if local is None or local.lost:
                continue
            local.lost = True
            while not local.queue.empty():
                local.queue.get_nowait()  # the client resyncs all of it
            local.queue.put_nowait(_LOST)
            for group in local.groups:
                members = state.groups.get(group)
                if members is not None:
                    members.discard(name)
                    if not members:
                        del state.groups[group]
            local.groups.clear()
            told += 1
        logger.warning("channel layer lost Redis (%r); %d channels told to resync", error, told)
        # The reader may be the caller; _shut cancels everything but itself.
        self._background(link, self._shut(link))

    async def _shut(self, link: _Link) -> None:
        current = asyncio.current_task()
        for task in list(link.tasks):
            if task is not current:
                task.cancel()
        try:
            await link.conn.disconnect()
        except Exception as error:  # a dead socket may not even close cleanly
            logger.debug("closing the channel layer's link: %r", error)
