"""channels-redis's core RedisChannelLayer, used through its public API, plus one rule.

The rule: Redis failing while a consumer waits for its next layer event
(Redis down or restarted) becomes one `{"type": "layer.lost"}` event for that
consumer instead of an exception. Raised, the error would kill the consumer
inside Channels' dispatch loop ("Exception inside application", close
1011); as an event, the socket shell (chat/transport.py, `layer_lost`) tells
the client `unavailable` and closes with 1013, and the client reconnects and
resyncs by message id (its groups died with Redis anyway). After that one
event the consumer's layer receive waits until the consumer ends.

Not the default any more (issue 16): `CHANNEL_LAYER=core` selects it, to
compare against; the default is tatartours/pubsub_layer.py, which keeps the
same rule (`LAYER_LOST`, defined here for both) at about a quarter of this
layer's CPU per message at the relay floor (docs/benchmarks.md). This one's
`group_send` is upstream's (four round trips); the two-round-trip version
this module had called the layer's private `_group_key` and
`_map_channel_keys_to_connection`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels_redis.core import RedisChannelLayer as CoreRedisChannelLayer
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

LAYER_LOST: dict[str, Any] = {"type": "layer.lost"}


class RedisChannelLayer(CoreRedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lost_channels: set[str] = set()

    async def receive(self, channel: str) -> dict[str, Any]:
        if channel in self.lost_channels:
            try:
                await asyncio.Future()  # Never returns; cancelled when the consumer ends.
            finally:
                self.lost_channels.discard(channel)
        try:
            message: dict[str, Any] = await super().receive(channel)
        except (RedisError, OSError) as error:
            self.lost_channels.add(channel)
            logger.warning("channel layer lost for %s: %r", channel, error)
            return dict(LAYER_LOST)
        return message
