"""`python -m bench.stream_floor`: what one streamed answer costs the AI client alone.

The AI chat's CPU target (3 ms per answered message, server + PostgreSQL +
Redis) has to hold the streaming of the model's answer too. This measures
that part by itself, in one process with nothing else running in it: the
fake OpenRouter paced like the `ai-50x10` scenario (first token after
200 ms, 50 tokens/s, so every token arrives in its own TCP segment as from
the real API), 50 answers streaming at once, and the CPU time of this
process per answer for

- `httpx`: a bare `AsyncClient.stream` + `aiter_lines`, nothing parsed;
- `ai.client.complete`: our client (SSE decoding, JSON chunks, deadlines).

The difference between the two is ours; the first is the floor the design
card's HTTP client sets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

QUESTION = "Здравствуйте! Какие туры в Казань есть на выходные и сколько они стоят?"


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(base_url: str, answers: int, concurrency: int) -> dict[str, Any]:
    from ai import client

    body = {
        "model": "bench/model",
        "stream": True,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    headers = {"Authorization": "Bearer bench"}

    async def bare() -> None:
        async with client.http_client().stream(
            "POST", f"{base_url}/chat/completions", json=body, headers=headers
        ) as response:
            async for _line in response.aiter_lines():
                pass

    async def ours() -> None:
        async def on_text(piece: str) -> None:
            pass

        loop = asyncio.get_running_loop()
        await client.complete(body, on_text=on_text, deadline=loop.time() + 60)

    results: dict[str, Any] = {}
    for name, one in (("httpx", bare), ("ai.client.complete", ours)):
        limit = asyncio.Semaphore(concurrency)

        async def limited(one: Any = one, limit: asyncio.Semaphore = limit) -> None:
            async with limit:
                await one()

        await asyncio.gather(*(limited() for _ in range(concurrency)))  # warm the pool
        cpu, wall = process_cpu(), time.perf_counter()
        await asyncio.gather(*(limited() for _ in range(answers)))
        cpu, wall = process_cpu() - cpu, time.perf_counter() - wall
        results[name] = {
            "answers": answers,
            "cpu_ms_per_answer": round(cpu / answers * 1000, 2),
            "wall_s": round(wall, 2),
        }
    await client.http_client().aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_floor", description=__doc__)
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()

    from bench.stack import running

    with running(Path(tempfile.mkdtemp(prefix="stream-floor-"))) as stack:
        _fake, base_url = stack.start_fake_model(200.0, 50.0)
        os.environ.update(OPENROUTER_API_KEY="bench", OPENROUTER_BASE_URL=base_url)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tatartours.settings")
        import django

        django.setup()
        results = asyncio.run(measure(base_url, args.answers, args.concurrency))
    for name, figures in results.items():
        print(f"{name:20} {figures['cpu_ms_per_answer']:6.2f} ms CPU per answer "
              f"({figures['answers']} answers, {figures['wall_s']} s)")  # fmt: skip


if __name__ == "__main__":
    main()
