"""Rate-limited and moderated refusals: counted per day without blocking the socket."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY

from analytics import counters
from analytics.metrics import Period, refusals_by_day
from analytics.models import DailyCounter

pytestmark = pytest.mark.django_db(transaction=True)


def error_frames(code: str) -> float:
    return REGISTRY.get_sample_value("tatartours_chat_errors_total", {"code": code}) or 0.0


def test_sync_callers_count_straight_into_the_daily_table() -> None:
    counters.record_refusal("rate_limited")
    counters.record_refusal("rate_limited")
    counters.record_refusal("moderated")
    counters.record_refusal("invalid")  # not a refusal: not counted per day

    today = timezone.localdate()
    assert refusals_by_day(Period(today, today)) == {today: {"rate_limited": 2, "moderated": 1}}
    assert not DailyCounter.objects.filter(name="invalid").exists()


async def test_the_event_loop_only_buffers_in_redis_until_a_flush() -> None:
    for _ in range(3):
        counters.record_refusal("moderated")
    await asyncio.gather(*counters._pending)  # the fire-and-forget increments

    assert await DailyCounter.objects.acount() == 0
    moved = await sync_to_async(counters.flush_buffer)()

    assert moved == 3
    today = timezone.localdate()
    counted = await sync_to_async(refusals_by_day)(Period(today, today))
    assert counted[today]["moderated"] == 3
    assert await sync_to_async(counters.flush_buffer)() == 0  # the buffer was emptied


def test_concurrent_upserts_lose_no_count() -> None:
    today = timezone.localdate()

    def add_many() -> None:
        try:
            for _ in range(25):
                counters.add_counts([(today, "rate_limited", 1)])
        finally:
            connection.close()

    threads = [threading.Thread(target=add_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert DailyCounter.objects.get(day=today, name="rate_limited").count == 200


def test_every_error_frame_is_counted_by_code_in_prometheus() -> None:
    before_limited, before_other = error_frames("rate_limited"), error_frames("other")

    counters.error_frame_sent("rate_limited")
    counters.error_frame_sent("no-such-code")

    assert error_frames("rate_limited") == before_limited + 1
    assert error_frames("other") == before_other + 1
    assert DailyCounter.objects.get(name="rate_limited").count == 1
