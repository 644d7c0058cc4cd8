"""Conversations and their outcome: resolved by the AI, handed off, rated badly, unanswered."""

from __future__ import annotations

import pytest

from analytics.metrics import Period, conversations_by_day, outcomes
from tests.analytics.dataset import DAY1, DAY2, DAY3, Chat, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def chats() -> None:
    # Day 1
    resolved = Chat(local(DAY1, 9))
    resolved.visitor("Сколько стоит экскурсия в Свияжск?", local(DAY1, 9))
    resolved.ai(local(DAY1, 9, 1))

    rated_badly = Chat(local(DAY1, 10))
    rated_badly.visitor("Когда отправление автобуса?", local(DAY1, 10))
    rated_badly.ai(local(DAY1, 10, 1))
    rated_badly.rate(2, local(DAY1, 10, 5))

    rated_well = Chat(local(DAY1, 11))
    rated_well.visitor("Можно с ребёнком?", local(DAY1, 11))
    rated_well.ai(local(DAY1, 11, 1))
    rated_well.rate(5, local(DAY1, 11, 5))

    handed = Chat(local(DAY1, 12))
    handed.visitor("Хочу вернуть деньги", local(DAY1, 12))
    handed.ai(local(DAY1, 12, 1))
    handed.handoff(local(DAY1, 12, 2), wait_s=30)

    # Day 2
    unanswered = Chat(local(DAY2, 9))
    unanswered.visitor("Здравствуйте", local(DAY2, 9))

    # Asked for an operator straight away, no message: still a conversation.
    request_only = Chat(local(DAY2, 10))
    request_only.handoff(local(DAY2, 10), wait_s=60)

    # Handed off on day 3, outside the period: within the period it is unanswered.
    later_handoff = Chat(local(DAY2, 11))
    later_handoff.visitor("Есть места на субботу?", local(DAY2, 11))
    later_handoff.handoff(local(DAY3, 9), wait_s=10)

    # Only AI and system text in the period, no visitor activity: not a conversation.
    quiet = Chat(local(DAY2, 12))
    quiet.visitor("Вопрос до периода", local(DAY3, 12))
    quiet.ai(local(DAY2, 12))


@pytest.mark.usefixtures("chats")
def test_every_conversation_gets_exactly_one_outcome() -> None:
    result = outcomes(Period(DAY1, DAY2))

    assert result.conversations == 7
    assert result.resolved_by_ai == 2  # answered, no handoff, not rated 1-2
    assert result.handed_off == 2
    assert result.rated_badly == 1
    assert result.unanswered == 2
    assert (
        result.resolved_by_ai + result.handed_off + result.rated_badly + result.unanswered
        == result.conversations
    )
    assert result.resolution_rate == pytest.approx(2 / 7)
    assert result.handoff_rate == pytest.approx(2 / 7)


@pytest.mark.usefixtures("chats")
def test_the_period_decides_what_counts_as_handed_off() -> None:
    day3 = outcomes(Period(DAY3, DAY3))

    # Day 3: the later handoff and the quiet chat's visitor message.
    assert day3.conversations == 2
    assert day3.handed_off == 1
    assert day3.unanswered == 1


@pytest.mark.usefixtures("chats")
def test_conversations_and_handoffs_per_day() -> None:
    days = conversations_by_day(Period(DAY1, DAY3))

    assert [(d.day, d.conversations, d.handed_off) for d in days] == [
        (DAY1, 4, 1),
        (DAY2, 3, 1),
        (DAY3, 2, 1),
    ]
    assert days[0].handoff_rate == pytest.approx(0.25)


def test_an_empty_period_has_no_rates() -> None:
    result = outcomes(Period(DAY1, DAY1))

    assert result.conversations == 0
    assert result.resolution_rate is None
