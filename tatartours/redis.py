"""One asyncio Redis client per event loop, for presence, locks and rate limits.

redis-py's asyncio connections belong to the loop that opened them; a
process normally has one loop, tests have one per test.
"""

from __future__ import annotations

import asyncio
import weakref

import redis.asyncio as aioredis
from django.conf import settings

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def get_redis() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # A blocking pool: when every connection is busy (a reconnect storm, a
        # burst of disconnects) a call waits up to `timeout` for one. redis-py 8's
        # default pool raises MaxConnectionsError at once past 100, which the
        # saturation benchmark hit when 200 visitors left together.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=settings.REDIS_MAX_CONNECTIONS,
            timeout=2,
            socket_connect_timeout=2,
            socket_timeout=2,
            health_check_interval=30,
        )
        client = aioredis.Redis(connection_pool=pool)
        _clients[loop] = client
    return client
