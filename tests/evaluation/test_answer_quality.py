"""The evaluation's deterministic part: a subset of the question set through a real daphne.

No OpenRouter key, so the offline answerer replies, as every visitor gets
whenever the models are down. The subset leaves out questions whose right
answer depends on the day of the week or of the year (weekends, holidays,
months): their expectations move with the demo dates, and `make eval` covers
them. Each question is asked in a fresh chat session through /ws/chat/ and
scored against the test database, exactly as `make eval` does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from evaluation import questionset
from evaluation.report import failures
from evaluation.run import evaluate
from tests.servers import ServerProcess, start_daphne
from tours.demo import load_demo_tours
from tours.demo_faq import load_demo_faq

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

SUBSET = [
    "typo-01", "typo-04", "typo-05", "translit-01", "translit-04", "sight-01", "sight-05",
    "date-06", "budget-01", "budget-02", "budget-03", "group-01", "group-03", "kids-01",
    "kids-02", "duration-03", "policy-01", "policy-03", "policy-07", "handoff-01",
    "handoff-02", "handoff-07", "handoff-08", "offtopic-01", "offtopic-02", "page-01", "page-02",
]  # fmt: skip

# The regression floor, at the targets. Never lower one to make a
# change pass. ("min": at least; "max": at most.)
THRESHOLDS: dict[str, tuple[str, float]] = {
    # The targets (docs/ai.md, "Evaluation"); the merged code scores
    # 100% on every rate of this subset, 219 characters, 0 padded, ~26 ms.
    "retrieval_at_3_percent": ("min", 95.0),
    "facts_right_percent": ("min", 95.0),
    "wrong_facts": ("max", 0),
    "answers_breaking_own_conditions": ("max", 0),
    "handoff_recall_percent": ("min", 90.0),
    # Precision of a few handoffs says little; what it guards is this: no false handoff.
    "false_handoffs": ("max", 0),
    "offtopic_redirected_percent": ("min", 90.0),
    "padded_answers": ("max", 0),
    "mean_length": ("max", 400),
    # CPU time of the daphne process (not wall time), so other load on the
    # machine hardly moves it; a loose guard against a costly regression
    # (the target, 50 ms, is measured by make eval over the whole set).
    "server_cpu_ms_per_question": ("max", 100.0),
}


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    load_demo_tours()
    load_demo_faq()
    process = start_daphne(
        OPENROUTER_API_KEY="",
        # A few dozen questions from one IP in a minute: lift the visitor limits.
        CHAT_RATE_LIMIT_PER_MINUTE="0",
        CHAT_CONNECTIONS_PER_MINUTE="0",
        CHAT_REGISTERS_PER_MINUTE="0",
    )
    yield process
    process.stop()


def _keep(summary: dict[str, Any], scores: list[Any]) -> None:
    """Every answer and its judgement, for reading after a failure."""
    artifacts = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    report = {"summary": summary, "questions": [s.as_dict() for s in scores]}
    (artifacts / "evaluation-subset.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2)
    )


def _meets(value: Any, rule: str, bound: float) -> bool:
    if value is None:
        return False
    return bool(value >= bound if rule == "min" else value <= bound)


async def test_the_offline_answers_stay_above_the_regression_floor(server):
    questions = [questionset.load().by_id(question_id) for question_id in SUBSET]
    run = await evaluate(
        server.ws_url, questions, server_pid=server.process.pid, today=timezone.localdate()
    )
    summary = run.summary
    _keep(run.summary, run.scores)
    assert summary["errors"] == 0, failures(run.scores)
    missed = {
        name: (summary[name], rule, bound)
        for name, (rule, bound) in THRESHOLDS.items()
        if not _meets(summary[name], rule, bound)
    }
    assert not missed, f"{missed}\n{failures(run.scores)}"
