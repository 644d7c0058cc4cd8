"""Publishing events to the channel layer, only after the database commit.

Action functions call `publish_on_commit`; nothing is announced that could
still roll back. How the events leave depends on the caller:

- async callers (consumers) run actions through `run_action`, which collects
  the committed events and sends them from the event loop after the DB hop
  returned, so the single sync thread never waits on Redis;
- sync callers (admin, views, management commands) publish right at commit.

The channel layer may drop messages (full channels, Redis restarts):
Postgres is the truth and clients resync by message id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from chat.events import layer_event
from tatartours.db_health import run_db

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

Outgoing = tuple[str, dict[str, Any]]
_collector: ContextVar[list[Outgoing] | None] = ContextVar("event_collector", default=None)


def publish_on_commit(group: str, frame: dict[str, Any]) -> None:
    """Send `frame` to every socket in `group` once the current transaction commits."""

    def release() -> None:
        collected = _collector.get()
        if collected is not None:
            collected.append((group, frame))
        else:
            send_now(group, frame)

    transaction.on_commit(release)


def send_now(group: str, frame: dict[str, Any]) -> None:
    """Sync publish; a Redis failure is logged, never raised: the DB already has it."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, layer_event(frame))
    except Exception:
        logger.exception("could not publish %s to %s", frame.get("type"), group)


async def send_events(events: list[Outgoing], *, origin: str | None = None) -> None:
    """Publish from async code; `origin`: the channel of a socket that already has them."""
    layer = get_channel_layer()
    if layer is None or not events:
        return
    batches = _consecutive_by_group(events)
    results = await asyncio.gather(
        *(
            layer.group_send(group, layer_event(frames[0], origin, frames[1:]))
            for group, frames in batches
        ),
        return_exceptions=True,
    )
    for (group, frames), result in zip(batches, results, strict=True):
        if isinstance(result, BaseException):
            types = ", ".join(str(f.get("type")) for f in frames)
            logger.warning("could not publish %s to %s: %r", types, group, result)


# The latest publication under way per group (publish_soon): the next one for
# the same group waits for it, so a chat's events keep their order. Also what
# keeps the tasks alive (the event loop holds only weak references to tasks).
_publishing: dict[str, asyncio.Task[None]] = {}


def publish_soon(events: list[Outgoing], *, origin: str | None = None) -> None:
    """`send_events` without waiting for Redis: for a caller that answers its
    socket first (a `message_ack` need not wait for the other tabs' copy).

    Still only what was committed (the caller committed already), and in
    order: after the previous `publish_soon` of the same group.
    """
    if not events:
        return
    group = events[0][0]
    loop = asyncio.get_running_loop()
    previous = _publishing.get(group)
    if previous is not None and (previous.done() or previous.get_loop() is not loop):
        previous = None  # ended, or left by a loop that closed (tests run one loop each)
    task = loop.create_task(_publish_after(previous, events, origin))
    _publishing[group] = task

    def forget(done: asyncio.Task[None]) -> None:
        if _publishing.get(group) is done:
            del _publishing[group]

    task.add_done_callback(forget)


async def _publish_after(
    previous: asyncio.Task[None] | None, events: list[Outgoing], origin: str | None
) -> None:
    if previous is not None:
        await asyncio.wait([previous])  # its outcome is its own (send_events logs failures)
    await send_events(events, origin=origin)


def _consecutive_by_group(events: list[Outgoing]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Frames for the same group in a row travel as one layer message (one
    group_send, one pop per socket), in their order."""
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for group, frame in events:
        if batches and batches[-1][0] == group:
            batches[-1][1].append(frame)
        else:
            batches.append((group, [frame]))
    return batches


@contextmanager
def collecting() -> Iterator[list[Outgoing]]:
    """Collect, instead of sending, the events committed inside the block."""
    events: list[Outgoing] = []
    token = _collector.set(events)
    try:
        yield events
    finally:
        _collector.reset(token)


async def run_action(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a sync action in one DB hop, then publish what it committed."""
    return await _run(None, fn, *args, **kwargs)


async def run_action_from(origin: str, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`run_action` for a socket that answers its own request directly (a `message_ack`):
    the events it commits are not delivered back to that socket (`origin`)."""
    return await _run(origin, fn, *args, **kwargs)


async def _run(origin: str | None, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    result, events = await run_action_collected(fn, *args, **kwargs)
    await send_events(events, origin=origin)
    return result


async def run_action_collected(
    fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs
) -> tuple[R, list[Outgoing]]:
    """Run a sync action in one DB hop; return its committed events for the caller to send.

    While PostgreSQL is known to be down the action is not run and
    `DatabaseUnavailable` is raised at once (tatartours/db_health.py).
    """

    def call() -> tuple[R, list[Outgoing]]:
        with collecting() as events:
            return fn(*args, **kwargs), events

    return await run_db(call)
