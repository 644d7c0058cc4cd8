"""`python -m bench.answer_store`: what storing a finished AI answer costs, by itself.

The end of an answer in the `ai-50x10` scenario is a burst: fifty answers
paced alike finish within a few milliseconds of each other, and each is
stored by `chat.actions.do_store_ai_answer` before it is announced. This
stores such bursts in one process on its own database (a fresh copy of the
bench's migrated template) and its own Redis, and prints, per answer, the
CPU time of this process and of the PostgreSQL backends serving it, and the
wall time of a burst, for each way of running the statements, alternating
in the same run:

- `batched`: a group of answers for distinct chats as one statement
  (`chat.message_rows.ai_answers_batch`), the default;
- `pipelined`: the same group as one transaction of one statement each
  (`ASYNC_DB_GROUP_BATCHES` off);
- `alone`: each answer its own statement in autocommit (no group commit).

The visitor messages the answers reply to are written between bursts and
are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

WAYS: dict[str, dict[str, Any]] = {
    "batched": {"ASYNC_DB_GROUP_BATCHES": True},
    "pipelined": {"ASYNC_DB_GROUP_BATCHES": False},
    "alone": {"ASYNC_DB_GROUP_COMMITTERS": 0},
}


async def measure(chats: int, bursts: int, repeats: int) -> dict[str, list[dict[str, float]]]:
    from django.conf import settings
    from django.test import override_settings

    from ai.types import AIAnswer
    from bench import procstat, stack
    from chat import actions

    answer = AIAnswer(
        text="Здравствуйте! Ближайший тур в Казань — в субботу, 2 500 ₽ за человека.",
        source="model",
        model="fake/model",
        prompt_tokens=120,
        completion_tokens=31,
    )
    sessions = [
        (
            await actions.do_register_visitor(
                token=None, tour_slug=None, user_id=None, client_ip="127.0.0.1"
            )
        ).session
        for _ in range(chats)
    ]

    async def questions() -> list[int]:
        posted = []
        for session in sessions:
            message = await actions.do_post_visitor_message(
                session_pk=session.pk,
                session_public_id=str(session.public_id),
                client_ip="127.0.0.1",
                client_id=os.urandom(8).hex(),
                text="Какие туры на выходные?",
                tour_slug=None,
            )
            posted.append(message.message.pk)
        return posted

    async def burst(reply_to: list[int]) -> None:
        stored = await asyncio.gather(
            *(
                actions.do_store_ai_answer(
                    session_pk=session.pk,
                    session_public_id=str(session.public_id),
                    reply_to=question,
                    answer=answer,
                )
                for session, question in zip(sessions, reply_to, strict=True)
            )
        )
        assert all(message is not None for message, _ in stored)

    def postgres_cpu() -> float:
        return sum(procstat.cpu_seconds(pid) or 0.0 for pid in stack.postgres_backend_pids())

    await burst(await questions())  # connections open, statements prepared
    results: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
    for _ in range(repeats):
        for way, overrides in WAYS.items():
            with override_settings(**overrides):
                assert all(getattr(settings, k) == v for k, v in overrides.items())
                cpu = pg = wall = 0.0
                for _ in range(bursts):
                    reply_to = await questions()
                    pg_before, cpu_before = postgres_cpu(), time.process_time()
                    wall_before = time.perf_counter()
                    await burst(reply_to)
                    wall += time.perf_counter() - wall_before
                    cpu += time.process_time() - cpu_before
                    pg += postgres_cpu() - pg_before
            answers = chats * bursts
            results[way].append(
                {
                    "cpu_ms_per_answer": 1000 * cpu / answers,
                    "postgres_ms_per_answer": 1000 * pg / answers,
                    "burst_ms": 1000 * wall / bursts,
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=50, help="answers per burst")
    parser.add_argument("--bursts", type=int, default=20, help="bursts per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="alternations of the ways")
    args = parser.parse_args()

    from bench import stack

    with stack.bench_database(), stack.bench_redis() as redis_url:
        stack.fresh_database()
        for key, value in stack.server_env().items():
            os.environ[key] = value
        os.environ["REDIS_URL"] = redis_url
        import django

        django.setup()
        results = asyncio.run(measure(args.chats, args.bursts, args.repeats))
    print(f"{args.chats} answers per burst, {args.bursts} bursts, {args.repeats} alternations")
    for way, runs in results.items():
        cells = "  ".join(
            f"{name} " + "/".join(f"{run[name]:.3f}" for run in runs) for name in runs[0]
        )
        print(f"{way:10} {cells}")


if __name__ == "__main__":
    main()
