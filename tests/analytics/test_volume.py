"""Messages per day by author, AI fallback and offline rates, tokens and cost per day."""

from __future__ import annotations

from decimal import Decimal

import pytest

from analytics.metrics import Period, ai_quality, volume_by_day
from tests.analytics.dataset import DAY1, DAY2, DAY3, Chat, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic() -> None:
    chat = Chat(local(DAY1))
    chat.visitor("Здравствуйте", local(DAY1, 10))
    chat.ai(
        local(DAY1, 10, 1),
        ai_prompt_tokens=300,
        ai_completion_tokens=120,
        ai_cost=Decimal("0.00250000"),
    )
    chat.visitor("А в субботу?", local(DAY1, 10, 5))
    chat.ai(
        local(DAY1, 10, 6),
        ai_fallback_used=True,
        model="meta-llama/llama-3.1-8b-instruct",
        ai_prompt_tokens=400,
        ai_completion_tokens=80,
        ai_cost=Decimal("0.00050000"),
    )
    # 23:30 Moscow on day 1 is still day 1; 00:30 on day 2 is day 2 (both 20:30 / 21:30 UTC).
    chat.visitor("Поздний вопрос", local(DAY1, 23, 30))
    chat.ai(local(DAY2, 0, 30), model="", source="offline", ai_error="timeout")
    chat.operator("Добрый день, я помогу", local(DAY2, 9))


@pytest.mark.usefixtures("traffic")
def test_messages_per_local_day_by_author_with_empty_days_included() -> None:
    days = volume_by_day(Period(DAY1, DAY3))

    assert [d.day for d in days] == [DAY1, DAY2, DAY3]
    assert days[0].messages == {"visitor": 3, "ai": 2, "operator": 0, "system": 0}
    assert days[1].messages == {"visitor": 0, "ai": 1, "operator": 1, "system": 0}
    assert days[2].total_messages == 0


@pytest.mark.usefixtures("traffic")
def test_ai_answers_fallbacks_offline_tokens_and_cost_per_day() -> None:
    day1, day2, _ = volume_by_day(Period(DAY1, DAY3))

    assert (day1.ai_answers, day1.fallbacks, day1.offline, day1.ai_errors) == (2, 1, 0, 0)
    assert (day1.prompt_tokens, day1.completion_tokens) == (700, 200)
    assert day1.cost == Decimal("0.003")
    assert (day2.ai_answers, day2.fallbacks, day2.offline, day2.ai_errors) == (1, 0, 1, 1)
    assert day2.cost == Decimal(0)


@pytest.mark.usefixtures("traffic")
def test_period_totals_give_the_fallback_and_offline_rates() -> None:
    totals = ai_quality(volume_by_day(Period(DAY1, DAY3)))

    assert totals.answers == 3
    assert totals.fallback_rate == pytest.approx(1 / 3)
    assert totals.offline_rate == pytest.approx(1 / 3)
    assert totals.prompt_tokens + totals.completion_tokens == 900
    assert totals.cost == Decimal("0.003")
