"""Who is online, across all server processes: Redis with expiring heartbeats.

Operators: each socket is a member of a per-operator sorted set scored by
the time it expires; the dashboard's heartbeat (and any activity) pushes
that time forward, a clean disconnect removes the member, and a crashed
process's sockets simply expire. The set key carries the same TTL, so an
operator nobody hears from leaves nothing behind. A second sorted set keeps
each operator's last-seen time: the sweeper's grace period is measured
from it. An "away" operator is still connected (keeps their chats) but
takes no new ones.

Visitors: the sockets of each chat session (a set), and, when the last one
closes, the time it did. The sweeper abandons a waiting request whose
visitor has been gone long enough. A process killed without closing its
sockets cannot say they left; instead every server process beats once per
SUPPORT_PROCESS_HEARTBEAT_SECONDS into a sorted set (one task per process,
no per-socket timers), and a socket whose process has been silent for
SUPPORT_VISITOR_GONE_SECONDS counts as gone. A process never heard of (one
from before this existed) counts as alive: SUPPORT_MAX_WAIT_SECONDS still
bounds those.

Times are epoch seconds of the server clocks (keep them NTP-synced).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from tatartours.redis import get_redis

logger = logging.getLogger(__name__)

PREFIX = "tatartours:support"
OPERATORS_KEY = f"{PREFIX}:operators"  # zset: user id -> last seen
AWAY_KEY = f"{PREFIX}:away"  # set: user ids switched to "away"
VISITORS_LEFT_KEY = f"{PREFIX}:visitors-left"  # zset: session pk -> when its last socket closed
PROCESSES_KEY = f"{PREFIX}:processes"  # zset: server process -> its last heartbeat
# Operators not seen for a week drop out of the candidate list.
FORGET_OPERATOR_SECONDS = 7 * 86400
VISITOR_SOCKETS_TTL_SECONDS = 86400

_VISITOR_LEFT = """
redis.call('srem', KEYS[1], ARGV[1])
if redis.call('scard', KEYS[1]) == 0 then
  redis.call('zadd', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""


def sockets_key(user_id: int) -> str:
    return f"{PREFIX}:sockets:{user_id}"


def visitor_sockets_key(session_pk: int) -> str:
    return f"{PREFIX}:visitor:{session_pk}"


@dataclass(frozen=True)
class OperatorPresence:
    user_id: int
    online: bool  # at least one live socket
    away: bool
    last_seen: float

    @property
    def available(self) -> bool:
        """Takes new chats: connected and not switched to away."""
        return self.online and not self.away


@dataclass(frozen=True)
class PresenceSnapshot:
    operators: dict[int, OperatorPresence]

    @property
    def online_ids(self) -> frozenset[int]:
        return frozenset(uid for uid, p in self.operators.items() if p.online)

    @property
    def available_ids(self) -> frozenset[int]:
        return frozenset(uid for uid, p in self.operators.items() if p.available)

    def last_seen(self) -> dict[int, float]:
        return {uid: p.last_seen for uid, p in self.operators.items()}


def _ids(raw: object) -> set[int]:
    return {int(item) for item in raw}  # type: ignore[attr-defined]


# --- Operators ---------------------------------------------------------------------


async def heartbeat(user_id: int, socket_id: str) -> None:
    """This socket of `user_id` is alive for another SUPPORT_PRESENCE_TTL_SECONDS."""
    now = time.time()
    ttl = settings.SUPPORT_PRESENCE_TTL_SECONDS
    key = sockets_key(user_id)
    pipe = get_redis().pipeline(transaction=False)
    pipe.zadd(key, {socket_id: now + ttl})
    pipe.expire(key, ttl)
    pipe.zadd(OPERATORS_KEY, {str(user_id): now})
    await pipe.execute()


async def leave(user_id: int, socket_id: str) -> None:
    """The socket closed cleanly: gone at once, no waiting for the TTL."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.zrem(sockets_key(user_id), socket_id)
    pipe.zadd(OPERATORS_KEY, {str(user_id): time.time()})
    await pipe.execute()


# Activity refreshes an operator socket's presence at most this often (the heartbeat does the rest).
ACTIVITY_REFRESH_SECONDS = 5.0


class OperatorSocket:
    """One operator socket as presence knows it: who, which socket, when last refreshed.

    The socket's actions pass it to the `support.actions.do_*` they call,
    which refresh presence first (`active`); callers without a socket (a
    view, the admin) pass none.
    """

    def __init__(self, user_id: int, socket_id: str) -> None:
        self.user_id = user_id
        self.socket_id = socket_id
        self._last_refresh = 0.0

    async def active(self, *, force: bool = False) -> None:
        """Alive for another TTL: activity once per ACTIVITY_REFRESH_SECONDS, heartbeats always."""
        now = time.monotonic()
        if not force and now - self._last_refresh < ACTIVITY_REFRESH_SECONDS:
            return
        self._last_refresh = now
        await heartbeat(self.user_id, self.socket_id)


async def set_away(user_id: int, away: bool) -> None:
    redis = get_redis()
    if away:
        await redis.sadd(AWAY_KEY, str(user_id))
    else:
        await redis.srem(AWAY_KEY, str(user_id))


async def is_away(user_id: int) -> bool:
    return bool(await get_redis().sismember(AWAY_KEY, str(user_id)))


async def snapshot() -> PresenceSnapshot:
    """Every operator seen this week: online or not, away or not, last seen when."""
    now = time.time()
    redis = get_redis()
    pipe = redis.pipeline(transaction=False)
    pipe.zremrangebyscore(OPERATORS_KEY, "-inf", now - FORGET_OPERATOR_SECONDS)
    pipe.zrange(OPERATORS_KEY, 0, -1, withscores=True)
    pipe.smembers(AWAY_KEY)
    _, seen, away_raw = await pipe.execute()
    last_seen = {int(uid): float(score) for uid, score in seen}
    away = _ids(away_raw)
    if not last_seen:
        return PresenceSnapshot({})
    pipe = redis.pipeline(transaction=False)
    for uid in last_seen:
        pipe.zremrangebyscore(sockets_key(uid), "-inf", now)
        pipe.zcard(sockets_key(uid))
    counts = (await pipe.execute())[1::2]
    operators = {}
    for (uid, seen_at), live in zip(last_seen.items(), counts, strict=True):
        online = int(live) > 0
        operators[uid] = OperatorPresence(
            user_id=uid,
            online=online,
            away=uid in away,
            last_seen=now if online else seen_at,
        )
    return PresenceSnapshot(operators)


# --- Visitors ------------------------------------------------------------------------


def process_of(socket_id: str) -> str:
    """The server process of a socket: its channel name up to '!' (channels' process part)."""
    return socket_id.partition("!")[0]


_heartbeats: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
    weakref.WeakKeyDictionary()
)


async def _beat_forever(process: str) -> None:
    while True:
        await asyncio.sleep(settings.SUPPORT_PROCESS_HEARTBEAT_SECONDS)
        try:
            await get_redis().zadd(PROCESSES_KEY, {process: time.time()})
        except Exception:
            logger.warning("process heartbeat failed", exc_info=True)


def _keep_beating(process: str) -> None:
    """One heartbeat task per process (per event loop), started by its first visitor."""
    loop = asyncio.get_running_loop()
    task = _heartbeats.get(loop)
    if task is None or task.done():
        _heartbeats[loop] = loop.create_task(_beat_forever(process))


async def visitor_connected(session_pk: int, socket_id: str) -> None:
    key = visitor_sockets_key(session_pk)
    process = process_of(socket_id)
    pipe = get_redis().pipeline(transaction=False)
    pipe.sadd(key, socket_id)
    pipe.expire(key, VISITOR_SOCKETS_TTL_SECONDS)
    pipe.zrem(VISITORS_LEFT_KEY, str(session_pk))
    pipe.zadd(PROCESSES_KEY, {process: time.time()})
    await pipe.execute()
    _keep_beating(process)


async def visitors_on_dead_processes(session_pks: Iterable[int]) -> set[int]:
    """Sessions whose every open socket is on a process silent for SUPPORT_VISITOR_GONE_SECONDS.

    Compared with the real clock, not the sweep's: heartbeats keep real time.
    """
    pks = list(session_pks)
    if not pks:
        return set()
    redis = get_redis()
    pipe = redis.pipeline(transaction=False)
    for pk in pks:
        pipe.smembers(visitor_sockets_key(pk))
    sockets = [{s.decode() for s in members} for members in await pipe.execute()]
    processes = sorted({process_of(s) for members in sockets for s in members})
    if not processes:
        return set()
    cutoff = time.time() - settings.SUPPORT_VISITOR_GONE_SECONDS
    scores = await redis.zmscore(PROCESSES_KEY, processes)
    dead = {
        p for p, seen in zip(processes, scores, strict=True) if seen is not None and seen < cutoff
    }
    # Forget processes silent for a day: their sockets' sets have expired too.
    with contextlib.suppress(Exception):
        await redis.zremrangebyscore(
            PROCESSES_KEY, "-inf", time.time() - VISITOR_SOCKETS_TTL_SECONDS
        )
    return {
        pk
        for pk, members in zip(pks, sockets, strict=True)
        if members and all(process_of(s) in dead for s in members)
    }


async def visitor_disconnected(session_pk: int, socket_id: str) -> None:
    await get_redis().eval(
        _VISITOR_LEFT,
        2,
        visitor_sockets_key(session_pk),
        VISITORS_LEFT_KEY,
        socket_id,
        str(time.time()),
        str(session_pk),
    )


async def visitors_gone_since(moment: float) -> set[int]:
    """Sessions whose visitor closed their last socket at or before `moment`.

    Entries older than the longest wait are pruned: such requests are
    abandoned by SUPPORT_MAX_WAIT_SECONDS anyway.
    """
    redis = get_redis()
    pipe = redis.pipeline(transaction=False)
    pipe.zremrangebyscore(
        VISITORS_LEFT_KEY, "-inf", time.time() - 2 * settings.SUPPORT_MAX_WAIT_SECONDS
    )
    pipe.zrangebyscore(VISITORS_LEFT_KEY, "-inf", moment)
    _, gone = await pipe.execute()
    return _ids(gone)
