"""A short Redis lock held by an owner token: SET NX PX to take, compare-and-delete to give
back, compare-and-pexpire to renew.

Used by the AI's one-generation-per-chat lock (chat.ai_reply) and the queue
announcer's (support.queue). Both are taken from tasks that a closing socket
cancels; `take` makes that safe (see there).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tatartours.redis import get_redis

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""

# Give-backs started by a callback, held until they end (the event loop keeps
# only weak references to tasks).
_giving_back: set[asyncio.Task[None]] = set()


async def take(key: str, owner: str, ttl_ms: int) -> bool:
    """Whether `owner` now holds `key` (for `ttl_ms` unless renewed or given back).

    Cancelled while the SET is on its way, Redis may still run it and the
    lock would be held by nobody until it expires: whoever comes next (the
    visitor's reconnected tab, the next queue change) would wait the whole
    TTL. So the SET is shielded and, if it took the lock after all, the lock
    is given back as soon as Redis answers.
    """
    taking = asyncio.ensure_future(get_redis().set(key, owner, nx=True, px=ttl_ms))
    try:
        return bool(await asyncio.shield(taking))
    except asyncio.CancelledError:
        taking.add_done_callback(lambda done: _give_back_if_taken(done, key, owner))
        raise


def _give_back_if_taken(taking: asyncio.Future[Any], key: str, owner: str) -> None:
    if taking.cancelled() or taking.exception() is not None or not taking.result():
        return
    task = asyncio.ensure_future(give_back(key, owner))
    _giving_back.add(task)
    task.add_done_callback(_giving_back.discard)


async def give_back(key: str, owner: str) -> None:
    """Delete `key` if `owner` still holds it (never another owner's); never raises."""
    with contextlib.suppress(Exception):
        await asyncio.shield(get_redis().eval(_RELEASE, 1, key, owner))


async def renew(key: str, owner: str, ttl_ms: int) -> None:
    """Another `ttl_ms` for `owner`'s lock if it still holds it; never raises (it expires)."""
    with contextlib.suppress(Exception):
        await get_redis().eval(_RENEW, 1, key, owner, ttl_ms)
