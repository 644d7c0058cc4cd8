"""CSAT: average, distribution 1-5 and share rated 4-5, split AI-only / operator."""

from __future__ import annotations

import pytest

from analytics.metrics import Period, csat
from tests.analytics.dataset import DAY1, DAY2, DAY3, Chat, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def ratings() -> None:
    for score in (5, 4, 2):
        chat = Chat(local(DAY1))
        chat.ai(local(DAY1, 12, 1))
        chat.rate(score, local(DAY1, 12, 5))
    for score in (5, 3):
        chat = Chat(local(DAY2))
        request = chat.handoff(local(DAY2), wait_s=10, closed_after_s=600)
        chat.rate(score, local(DAY2, 13), support_request=request)
    # Rated after the period: not counted.
    late = Chat(local(DAY3))
    late.ai(local(DAY3, 12))
    late.rate(1, local(DAY3, 12, 5))


@pytest.mark.usefixtures("ratings")
def test_csat_over_all_ratings_of_the_period() -> None:
    result = csat(Period(DAY1, DAY2)).all

    assert result.ratings == 5
    assert result.average == pytest.approx(3.8)
    assert result.distribution == {1: 0, 2: 1, 3: 1, 4: 1, 5: 2}
    assert result.satisfied == 3
    assert result.satisfied_share == pytest.approx(0.6)


@pytest.mark.usefixtures("ratings")
def test_csat_split_between_ai_only_and_operator_conversations() -> None:
    split = csat(Period(DAY1, DAY2))

    assert split.ai_only.ratings == 3
    assert split.ai_only.average == pytest.approx(11 / 3)
    assert split.ai_only.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert split.ai_only.satisfied_share == pytest.approx(2 / 3)

    assert split.operator.ratings == 2
    assert split.operator.average == pytest.approx(4)
    assert split.operator.distribution == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert split.operator.satisfied_share == pytest.approx(0.5)


def test_no_ratings_means_no_average() -> None:
    result = csat(Period(DAY1, DAY1)).all

    assert result.ratings == 0
    assert result.average is None
    assert result.satisfied_share is None
