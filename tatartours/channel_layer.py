"""channels-redis's RedisChannelLayer with a `group_send` of two Redis round trips, not four.

Every frame of a chat (each visitor message, AI chunk, typing flag, answer)
is a `group_send`. Upstream (channels-redis 4.3) spends four sequential
round trips on one: ZREMRANGEBYSCORE and ZRANGE on the group, then a
pipeline expiring old messages and a Lua script adding the message to each
member's channel. Here the first two go in one pipeline and the expiry moves
into the script: same commands, same semantics (group expiry, message
expiry, per-channel capacity, a full channel skipped and logged, never
raised), two round trips. Receiving is upstream's, unchanged.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from channels_redis.core import RedisChannelLayer as UpstreamRedisChannelLayer

logger = logging.getLogger(__name__)

# KEYS: the member channels' keys. ARGV: one message per key, one capacity per
# key, then now, the message expiry (s) and the cutoff for expired messages.
GROUP_SEND_LUA = """
local over_capacity = 0
local count = #KEYS
local now = ARGV[2 * count + 1]
local expiry = ARGV[2 * count + 2]
local cutoff = ARGV[2 * count + 3]
for i = 1, count do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, cutoff)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + count]) then
        redis.call('ZADD', KEYS[i], now, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


class RedisChannelLayer(UpstreamRedisChannelLayer):
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert self.require_valid_group_name(group), "Group name not valid"
        key = self._group_key(group)
        connection = self.connection(self.consistent_hash(group))
        pipe = connection.pipeline(transaction=False)
        # Members not refreshed within group_expiry are gone.
        pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
        pipe.zrange(key, 0, -1)
        _, members = await pipe.execute()
        # A socket that already has the frame (the event's `origin`) is not sent
        # it again: no Redis write for it, no pop and no wake-up on its side.
        origin = message.get("origin")
        channel_names = [name for member in members if (name := member.decode("utf8")) != origin]
        if not channel_names:
            return

        by_connection, messages, capacities = self._map_channel_keys_to_connection(
            channel_names, message
        )
        for index, channel_keys in by_connection.items():
            now = time.time()
            args = [
                *(messages[channel_key] for channel_key in channel_keys),
                *(capacities[channel_key] for channel_key in channel_keys),
                now,
                self.expiry,
                int(now) - int(self.expiry),
            ]
            over_capacity = await self.connection(index).eval(
                GROUP_SEND_LUA, len(channel_keys), *channel_keys, *args
            )
            if over_capacity > 0:
                logger.info(
                    "%s of %s channels over capacity in group %s",
                    over_capacity,
                    len(channel_names),
                    group,
                )
