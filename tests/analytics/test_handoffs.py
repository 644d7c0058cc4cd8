"""Handoffs to operators: waiting time in the queue, first response, abandoned requests."""

from __future__ import annotations

import pytest

from analytics.metrics import Period, Timing, handoffs
from support.models import SupportRequest
from tests.analytics.dataset import DAY1, DAY2, DAY3, Chat, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests() -> None:
    # Taken after 30, 60, 90, 120 and 600 s; first replies 10, 20, 30, 40 s after taking.
    for i, (wait, reply) in enumerate([(30, 10), (60, 20), (90, 30), (120, 40), (600, None)]):
        Chat(local(DAY1, 9 + i)).handoff(
            local(DAY1, 9 + i), wait_s=wait, first_reply_s=reply, closed_after_s=wait + 900
        )
    # Never taken: the visitor left the queue.
    Chat(local(DAY2, 9)).handoff(
        local(DAY2, 9), closed_after_s=300, status=SupportRequest.Status.ABANDONED
    )
    # Still waiting now.
    Chat(local(DAY2, 10)).handoff(local(DAY2, 10))
    # Outside the period.
    Chat(local(DAY3, 9)).handoff(local(DAY3, 9), wait_s=5000, first_reply_s=5000)


# Both timings are read the same way from the same requests; only the numbers differ.
@pytest.mark.usefixtures("requests")
@pytest.mark.parametrize(
    ("timing", "count", "mean", "p50", "p95"),
    [
        # Over the five taken requests; p95 at position 3.8: 120 + 0.8 * 480.
        pytest.param("waiting", 5, 180, 90, 504, id="queue-wait-of-the-requests-taken"),
        # Over the four replied ones; p95 at position 2.85: 30 + 0.85 * 10.
        pytest.param("first_response", 4, 25, 25, 38.5, id="first-response-after-taking"),
    ],
)
def test_handoff_timings_over_the_period(
    timing: str, count: int, mean: float, p50: float, p95: float
) -> None:
    result: Timing = getattr(handoffs(Period(DAY1, DAY2)), timing)

    assert result.count == count
    assert result.mean == pytest.approx(mean)
    assert result.p50 == pytest.approx(p50)
    assert result.p95 == pytest.approx(p95)


@pytest.mark.usefixtures("requests")
def test_requests_counted_by_status_with_the_abandoned_share() -> None:
    result = handoffs(Period(DAY1, DAY2))

    assert result.requests == 7
    assert result.by_status == {"waiting": 1, "assigned": 0, "closed": 5, "abandoned": 1}
    assert result.abandoned == 1
    assert result.abandon_rate == pytest.approx(1 / 7)


def test_a_requeued_request_waits_until_its_last_take_and_its_old_reply_is_left_out() -> None:
    chat = Chat(local(DAY1, 9))
    # Taken after 60 s, answered, then the operator went offline: back in the queue,
    # taken again 600 s after the request. The first reply predates the new take.
    request = chat.handoff(local(DAY1, 9), wait_s=60, first_reply_s=15)
    SupportRequest.objects.filter(pk=request.pk).update(
        assigned_at=local(DAY1, 9, 10), requeue_count=1, requeued_at=local(DAY1, 9, 5)
    )
    Chat(local(DAY1, 10)).handoff(local(DAY1, 10), wait_s=30, first_reply_s=20)

    result = handoffs(Period(DAY1, DAY1))

    assert result.requeued == 1
    assert result.waiting.count == 2
    assert result.waiting.p50 == pytest.approx(315)  # between 30 and 600
    assert result.first_response.count == 1
    assert result.first_response.mean == pytest.approx(20)
