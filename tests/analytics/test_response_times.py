"""AI answer time and time to first token: mean, median, p95 per day and per model.

percentile_cont interpolates: over n sorted values the p-th percentile sits
at position p * (n - 1), between the two nearest values.
"""

from __future__ import annotations

import pytest

from analytics.metrics import (
    Period,
    response_times,
    response_times_by_day,
    response_times_by_model,
)
from tests.analytics.dataset import DAY1, DAY2, DAY3, Chat, local

pytestmark = pytest.mark.django_db

GPT = "openai/gpt-4"
LLAMA = "meta-llama/llama-3.1-8b-instruct"


@pytest.fixture
def answers() -> None:
    # Day 1, GPT: 100, 200, ..., 2000 ms in total; first token 10, 20, ..., 200 ms.
    chat = Chat(local(DAY1, 9))
    for i in range(1, 21):
        chat.ai(local(DAY1, 10, i), model=GPT, latency_ms=100 * i, first_token_ms=10 * i)
    # Day 2, Llama: 500, 700, 3000 ms; one answer without a first-token time.
    other = Chat(local(DAY2, 9))
    other.ai(local(DAY2, 10), model=LLAMA, latency_ms=500, first_token_ms=50)
    other.ai(local(DAY2, 11), model=LLAMA, latency_ms=700, first_token_ms=None)
    other.ai(local(DAY2, 12), model=LLAMA, latency_ms=3000, first_token_ms=300)
    # Day 2, the offline answerer: no model, no timings; counted as an answer only.
    other.ai(local(DAY2, 13), model="", source="offline")
    # Outside the period (day 3): must not count.
    Chat(local(DAY3)).ai(local(DAY3, 10), model=GPT, latency_ms=99_999, first_token_ms=9_999)


@pytest.mark.usefixtures("answers")
def test_per_day_mean_median_and_p95_of_total_and_first_token_time() -> None:
    day1, day2 = response_times_by_day(Period(DAY1, DAY2))

    assert day1.key == DAY1
    assert day1.answers == 20
    assert day1.total.count == 20
    assert day1.total.mean == pytest.approx(1050)
    assert day1.total.p50 == pytest.approx(1050)  # between 1000 and 1100
    assert day1.total.p95 == pytest.approx(1905)  # position 18.05: 1900 + 0.05 * 100
    assert day1.first_token.p50 == pytest.approx(105)
    assert day1.first_token.p95 == pytest.approx(190.5)

    assert day2.key == DAY2
    assert day2.answers == 4  # the offline answer is an answer...
    assert day2.total.count == 3  # ...without a timing
    assert day2.total.mean == pytest.approx(1400)
    assert day2.total.p50 == pytest.approx(700)
    assert day2.total.p95 == pytest.approx(2770)  # position 1.9: 700 + 0.9 * 2300
    assert day2.first_token.count == 2
    assert day2.first_token.p50 == pytest.approx(175)
    assert day2.first_token.p95 == pytest.approx(287.5)  # 50 + 0.95 * 250


@pytest.mark.usefixtures("answers")
def test_per_model_groups_answers_by_the_model_that_answered() -> None:
    by_model = {row.key: row for row in response_times_by_model(Period(DAY1, DAY2))}

    assert set(by_model) == {GPT, LLAMA, ""}
    assert by_model[GPT].total.p95 == pytest.approx(1905)
    assert by_model[LLAMA].total.p50 == pytest.approx(700)
    assert by_model[""].answers == 1
    assert by_model[""].total.count == 0
    assert by_model[""].total.p50 is None


@pytest.mark.usefixtures("answers")
def test_the_whole_period_pools_every_answer_of_every_day() -> None:
    overall = response_times(Period(DAY1, DAY2))

    assert overall.answers == 24
    assert overall.total.count == 23
    # 20 values of day 1 and 3 of day 2: mean (21000 + 4200) / 23.
    assert overall.total.mean == pytest.approx(25200 / 23)
    assert overall.total.p50 == pytest.approx(1000)  # the 12th of 23 sorted values


def test_no_answers_give_empty_figures_not_errors() -> None:
    overall = response_times(Period(DAY1, DAY1))

    assert overall.answers == 0
    assert overall.total.mean is None
    assert overall.total.p95 is None
    assert response_times_by_day(Period(DAY1, DAY1)) == []
