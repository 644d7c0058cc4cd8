"""The channel layers alone: group round trips between two layer instances.

No daphne, no sockets, no Django request: two instances of a layer (two
"processes", each with its own connections and local channels) in one
process and event loop, one channel each, both in a group; one sends to the
group, the other answers to the group, `--rounds` times. It reports wall
time and CPU per round trip of this process and of the private
redis-server it starts, so the layers' own cost can be compared without the
noise of a full stack (`make bench`'s relay-floor measures that one).
Layers are compared alternately, `--repeat` times.

    .venv/bin/python -m bench.layer_floor --rounds 3000 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import socket
import subprocess
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tatartours.settings")
django.setup()

import redis  # noqa: E402
from channels_redis.pubsub import RedisPubSubChannelLayer  # noqa: E402

from bench.procstat import cpu_seconds, machine_cpu_seconds  # noqa: E402
from tatartours.channel_layer import RedisChannelLayer  # noqa: E402
from tatartours.pubsub_layer import PubSubChannelLayer  # noqa: E402

LAYERS: dict[str, Any] = {
    "core": RedisChannelLayer,
    "channels-redis-pubsub": RedisPubSubChannelLayer,
    "pubsub": PubSubChannelLayer,
    "pubsub-no-local": functools.partial(PubSubChannelLayer, local_delivery=False),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_cpu(client: redis.Redis) -> float:
    info: dict[str, Any] = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def run(name: str, url: str, rounds: int, same_process: bool) -> tuple[float, float]:
    cls = LAYERS[name]
    one, two = (cls(hosts=[{"address": url}], prefix=f"lf{name[:4]}") for _ in range(2))
    if same_process:
        two = one  # both members in one process
    a, b = await one.new_channel(), await two.new_channel()
    await one.group_add("floor", a)
    await two.group_add("floor", b)

    async def reply(layer: Any, channel: str, sender: str) -> None:
        # Both members get every group message; each drops its own, as the
        # chat's sockets drop an event whose `origin` they are.
        while True:
            message = await layer.receive(channel)
            if message["origin"] != sender:
                return

    for _ in range(50):  # warm-up
        await one.group_send("floor", {"type": "ping", "origin": a})
        await reply(two, b, b)
        await two.group_send("floor", {"type": "pong", "origin": b})
        await reply(one, a, a)
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(rounds):
        await one.group_send("floor", {"type": "ping", "origin": a, "n": n})
        await reply(two, b, b)
        await two.group_send("floor", {"type": "pong", "origin": b, "n": n})
        await reply(one, a, a)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    for layer in {one, two}:
        await layer.flush()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--layer", action="append", choices=sorted(LAYERS))
    parser.add_argument(
        "--same-process", action="store_true", help="both channels on one layer instance"
    )
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed"
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            import hiredis  # noqa: F401

            parser_name = "hiredis"
        except ImportError:
            parser_name = "python"
        where = "one process" if args.same_process else "two processes"
        print(f"redis-py parser: {parser_name}; {args.rounds} round trips per run, {where}")
        for repeat in range(args.repeat):
            for name in args.layer or ["core", "channels-redis-pubsub", "pubsub"]:
                before, machine = redis_cpu(client), machine_cpu_seconds()
                ours = (cpu_seconds(os.getpid()) or 0.0) + (cpu_seconds(server.pid) or 0.0)
                wall, cpu = asyncio.run(run(name, url, args.rounds, args.same_process))
                redis_s = redis_cpu(client) - before
                redis_ms = redis_s * 1000 / args.rounds
                ours = (cpu_seconds(os.getpid()) or 0.0) + (cpu_seconds(server.pid) or 0.0) - ours
                other = max(0.0, machine_cpu_seconds() - machine - ours)
                print(
                    f"run {repeat + 1} {name:<22} {args.rounds / wall:7.0f} round trips/s  "
                    f"CPU per round trip: layer {cpu * 1000 / args.rounds:.3f} ms, "
                    f"redis {redis_ms:.3f} ms; cpu_other_processes_s {other:.1f}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
