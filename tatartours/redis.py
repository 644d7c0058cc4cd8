"""One asyncio Redis client per event loop, for presence, locks and rate limits.

redis-py's asyncio connections belong to the loop that opened them; a
process normally has one loop, tests have one per test.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def connection_options(retries: int, health_check_seconds: int) -> dict[str, Any]:
    """redis-py options that survive a Redis restart (settings.REDIS_RETRIES explains).

    For this module's pool and the channel layer's (channels-redis passes a
    host's extra keys to redis-py). A fresh Retry each call: redis-py copies
    it per connection.
    """
    return {
        "retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": health_check_seconds,
    }


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
            # Retry on a fresh connection after a connection error (Redis restarted).
            **connection_options(settings.REDIS_RETRIES, settings.REDIS_HEALTH_CHECK_SECONDS),
        )
        client = aioredis.Redis(connection_pool=pool)
        _clients[loop] = client
    return client
