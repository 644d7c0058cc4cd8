"""One evaluation run against a running server: ask, measure the server's CPU, score.

Used by `python -m evaluation` (its own stack) and by tests/evaluation (a
test daphne on the test database). The caller has Django set up on the
database the server uses, so that facts are read from the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from asgiref.sync import sync_to_async

from bench import procstat
from evaluation import catalogue as catalogue_module
from evaluation import harness, scoring
from evaluation.questionset import Expect, Question

WARM_UP = Question("warm-up", "policy", "Здравствуйте!", Expect(offtopic=True))


@dataclass
class Run:
    scores: list[scoring.Score]
    summary: dict[str, Any]
    exchanges: list[scoring.Exchange]


def _handoff_recorded(message_id: int) -> bool:
    from chat.models import ChatMessage

    meta = ChatMessage.objects.filter(id=message_id).values_list("meta", flat=True).first()
    return bool(isinstance(meta, dict) and meta.get("handoff"))


async def handoff_coming(message_id: int) -> bool:
    return await sync_to_async(_handoff_recorded)(message_id)


async def ask_all(
    ws_url: str, questions: Sequence[Question], *, server_pid: int | None, timeout: float
) -> tuple[list[scoring.Exchange], float | None]:
    """Every question in turn (after one warm-up); returns exchanges and server CPU seconds."""
    # The first answer loads templates, catalogues and connections: not a question's cost.
    await harness.ask(ws_url, WARM_UP, timeout=timeout, handoff_coming=handoff_coming)
    before = procstat.cpu_seconds(server_pid) if server_pid else None
    exchanges = [
        await harness.ask(ws_url, question, timeout=timeout, handoff_coming=handoff_coming)
        for question in questions
    ]
    after = procstat.cpu_seconds(server_pid) if server_pid else None
    cpu = after - before if before is not None and after is not None else None
    return exchanges, cpu


def score_all(
    questions: Sequence[Question],
    exchanges: Sequence[scoring.Exchange],
    catalogue: catalogue_module.Catalogue,
    today: date,
    server_cpu_seconds: float | None = None,
) -> Run:
    scores = [
        scoring.score(question, exchange, catalogue, today)
        for question, exchange in zip(questions, exchanges, strict=True)
    ]
    summary = scoring.summarize(scores)
    summary["server_cpu_ms_per_question"] = (
        round(1000 * server_cpu_seconds / len(questions), 1)
        if server_cpu_seconds is not None and questions
        else None
    )
    answered = [e for e in exchanges if not e.error]
    summary["mean_answer_ms"] = (
        round(sum(e.elapsed_ms for e in answered) / len(answered), 1) if answered else None
    )
    summary["sources"] = {
        source: sum(1 for e in exchanges if e.source == source)
        for source in sorted({e.source for e in exchanges})
    }
    return Run(scores, summary, list(exchanges))


async def evaluate(
    ws_url: str,
    questions: Sequence[Question],
    *,
    server_pid: int | None,
    today: date,
    timeout: float = 30.0,
) -> Run:
    exchanges, cpu = await ask_all(ws_url, questions, server_pid=server_pid, timeout=timeout)
    catalogue = await sync_to_async(catalogue_module.from_database)()
    return score_all(questions, exchanges, catalogue, today, cpu)
