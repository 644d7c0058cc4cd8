"""PUBLISH alone: redis-py's client against the layer's pipelined publisher.

What one group message costs the sending process in Redis client code, at
1, 10 and 50 publishes in flight (one chat, a few, a busy process): CPU
microseconds of this process per PUBLISH and publishes per second, the
two alternated `--repeat` times against a private redis-server, so other
traffic on the machine's Redis does not count.

    .venv/bin/python -m bench.publish_floor --count 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from tatartours.redis import connection_options
from tatartours.redis_publisher import Publisher
from tests.faults.infra import RedisServer

PAYLOAD = b"0123456789abcdef" + b"x" * 200  # a sender id and a typical chat frame
Publish = Callable[[bytes, bytes], Awaitable[int]]


async def measure(publish: Publish, count: int, in_flight: int) -> tuple[float, float]:
    async def worker(n: int) -> None:
        for _ in range(n):
            await publish(b"bench:group:x", PAYLOAD)

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker(count // in_flight) for _ in range(in_flight)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return cpu / count * 1e6, count / wall


async def run(url: str, count: int, repeat: int) -> None:
    options = connection_options(3, 30)
    for in_flight in (1, 10, 50):
        for _ in range(repeat):
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=50, timeout=5, socket_timeout=5, **options
            )
            client = aioredis.Redis(connection_pool=pool)
            cpu, rate = await measure(client.publish, count, in_flight)
            await client.aclose()
            print(f"in flight {in_flight:>2}  redis-py client   {cpu:6.1f} µs  {rate:8.0f}/s")
            single = aioredis.ConnectionPool.from_url(url, socket_timeout=5, **options)
            publisher = Publisher(single.make_connection(), options["retry"])
            cpu, rate = await measure(publisher.publish, count, in_flight)
            await publisher.aclose()
            print(f"in flight {in_flight:>2}  pipelined         {cpu:6.1f} µs  {rate:8.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with RedisServer() as server:
        asyncio.run(run(server.url, args.count, args.repeat))


if __name__ == "__main__":
    main()
