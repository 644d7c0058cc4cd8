"""Sliding-window rate limits shared by every server process, kept in Redis.

Each window is a sorted set of the attempts it counted (member -> time in
ms). One Lua script checks all the windows of an attempt and records it in
all of them, or in none: an attempt refused by the IP window does not use
up the session's window, and two processes can never both take the last
place (Redis runs a script atomically). Time is Redis's own clock, so
processes on machines with skewed clocks still agree.

An attempt is identified by a member string (the message's client_id): the
same member counted again within the window is not counted twice, which is
what makes a resend after a reconnect free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tatartours.redis import get_redis

KEY_PREFIX = "tatartours:rl:"

# KEYS: the windows. ARGV: member, then per window: length (ms), limit, weight.
# Returns {0, 0} when recorded, else {index of the full window (1-based), wait ms}.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local counted = {}
for i, key in ipairs(KEYS) do
  local base = 1 + (i - 1) * 3
  local window = tonumber(ARGV[base + 1])
  local limit = tonumber(ARGV[base + 2])
  local weight = tonumber(ARGV[base + 3])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if weight > 0 and not redis.call('ZSCORE', key, member .. '#1') then
    local count = redis.call('ZCARD', key)
    if count + weight > limit then
      local oldest = count + weight - limit - 1
      if oldest >= count then
        return {i, window}
      end
      local entry = redis.call('ZRANGE', key, oldest, oldest, 'WITHSCORES')
      return {i, tonumber(entry[2]) + window - now}
    end
    counted[#counted + 1] = {key, window, weight}
  end
end
for _, c in ipairs(counted) do
  for j = 1, c[3] do
    redis.call('ZADD', c[1], now, member .. '#' .. j)
  end
  redis.call('PEXPIRE', c[1], c[2])
end
return {0, 0}
"""


@dataclass(frozen=True)
class Window:
    """At most `limit` events per `seconds` under `key`; one attempt counts `weight` events."""

    name: str  # what is limited, reported to the client ("messages", "repeat", ...)
    key: str
    limit: int
    seconds: int
    weight: int = 1


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused
    window: Window | None = None  # the window that refused


ALLOWED = Verdict(allowed=True)


def key(*parts: str) -> str:
    return KEY_PREFIX + ":".join(parts)


async def hit(windows: Sequence[Window], member: str) -> Verdict:
    """Count one attempt in every window, atomically, unless one of them is full.

    Windows with a limit of 0 are unlimited and skipped. Raises redis'
    errors: the caller decides what an outage means.
    """
    active = [w for w in windows if w.limit > 0]
    if not active:
        return ALLOWED
    args: list[str | int] = [member]
    for window in active:
        args += [window.seconds * 1000, window.limit, window.weight]
    redis = get_redis()
    script = redis.register_script(_HIT)
    full, wait_ms = await script(keys=[w.key for w in active], args=args)
    if int(full) == 0:
        return ALLOWED
    return Verdict(
        allowed=False,
        retry_after=max(1, math.ceil(int(wait_ms) / 1000)),
        window=active[int(full) - 1],
    )
