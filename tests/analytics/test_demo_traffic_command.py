"""`manage.py demo_traffic`: a month of realistic conversations through the real actions."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analytics.demo import DEMO_USER_AGENT, demo_sessions
from analytics.metrics import Period, csat, handoffs, outcomes, top_words
from analytics.models import DailyCounter
from chat.models import ChatMessage
from support.models import SupportRequest
from tests.analytics.commands import run
from tours.demo import load_demo_tours
from tours.demo_faq import load_demo_faq

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalogue() -> None:
    load_demo_tours()
    load_demo_faq()


@pytest.mark.usefixtures("catalogue")
def test_demo_traffic_gives_every_metric_something_to_show() -> None:
    text = run("demo_traffic", "--days", "5", "--seed", "3")

    assert "Demo traffic:" in text
    period = Period.last_days(5)
    result = outcomes(period)
    assert result.conversations == demo_sessions().count() > 20
    assert result.resolved_by_ai > 0
    assert result.handed_off > 0
    requests = handoffs(period)
    assert requests.waiting.p50 is not None
    assert requests.first_response.p50 is not None
    satisfaction = csat(period)
    assert satisfaction.ai_only.ratings > 0
    assert top_words(period)[0].messages > 1
    # Backdated: spread over the days, never in the future.
    days = {
        timezone.localtime(at).date()
        for at in ChatMessage.objects.values_list("created_at", flat=True)
    }
    assert len(days) >= 4
    assert max(days) <= timezone.localdate()
    assert DailyCounter.objects.filter(name="rate_limited").exists()
    # The operators' notices (system messages) are backdated with their chats, in order.
    for session in demo_sessions().filter(messages__author="system").distinct()[:20]:
        times = list(session.messages.order_by("pk").values_list("created_at", flat=True))
        assert times == sorted(times), session.pk
    # Through the real actions: every support request ended as the actions end them.
    assert set(SupportRequest.objects.values_list("status", flat=True)) <= {
        "closed",
        "abandoned",
    }


@pytest.mark.usefixtures("catalogue")
def test_running_it_again_changes_nothing_unless_reset() -> None:
    run("demo_traffic", "--days", "2", "--seed", "1")
    first = set(demo_sessions().values_list("pk", flat=True))

    again = run("demo_traffic", "--days", "2")
    assert "already there" in again
    assert set(demo_sessions().values_list("pk", flat=True)) == first

    run("demo_traffic", "--days", "2", "--reset")
    renewed = set(demo_sessions().values_list("pk", flat=True))
    assert renewed and not renewed & first
    assert {s.user_agent for s in demo_sessions()} == {DEMO_USER_AGENT}
