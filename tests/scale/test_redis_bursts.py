"""A burst of Redis calls larger than the client's pool waits for connections; none fails.

Every socket that opens, registers or leaves makes a Redis call (rate limits,
presence). redis-py 8's default pool raised MaxConnectionsError past 100
connections at once: the saturation benchmark lost 'visitor left' records when
200 visitors disconnected together, and a reconnect storm would have told
visitors `unavailable`. tatartours.redis uses a blocking pool instead.
"""

from __future__ import annotations

import asyncio

from django.conf import settings

from tatartours.redis import get_redis


async def test_three_times_the_pool_in_concurrent_calls_all_succeed() -> None:
    redis = get_redis()
    burst = settings.REDIS_MAX_CONNECTIONS * 3
    key = "tatartours:test:burst"
    try:
        # BLPOP with a short timeout holds its connection, so the calls overlap for real.
        results = await asyncio.gather(
            *(redis.blpop([f"{key}:{i}"], timeout=0.05) for i in range(burst))
        )
        assert results == [None] * burst
        assert await redis.incrby(key, 1) == 1
    finally:
        await redis.delete(key)
    assert redis.connection_pool.max_connections == settings.REDIS_MAX_CONNECTIONS
