"""The real visitor socket feeds the live metrics and the daily refusal counts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from analytics import counters
from analytics.metrics import Period, refusals_by_day

pytestmark = pytest.mark.django_db(transaction=True)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def open_sockets() -> float:
    return value("tatartours_websockets_open", consumer="VisitorConsumer")


async def test_an_open_visitor_socket_is_counted_until_it_closes(visitor: Any) -> None:
    before = open_sockets()

    socket = await visitor()
    assert open_sockets() == before + 1

    await socket.close()
    for _ in range(50):  # the consumer's task ends just after the disconnect
        if open_sockets() == before:
            break
        await asyncio.sleep(0.1)
    assert open_sockets() == before


@override_settings(CHAT_MAX_LINKS_PER_MESSAGE=1, CHAT_RATE_LIMIT_PER_MINUTE=1)
async def test_refusals_reach_prometheus_and_the_daily_counters(visitor: Any) -> None:
    moderated_before = value("tatartours_chat_errors_total", code="moderated")
    socket = await visitor()

    await socket.say("Смотрите a.ru b.ru c.ru")
    refused, _ = await socket.until("error")
    assert refused["code"] == "moderated"
    await socket.say("Первое сообщение")
    await socket.say("Второе сообщение")
    limited, _ = await socket.until("error")
    assert limited["code"] == "rate_limited"

    await asyncio.gather(*counters._pending)  # the fire-and-forget Redis increments
    await sync_to_async(counters.flush_buffer)()
    today = timezone.localdate()
    counted = await sync_to_async(refusals_by_day)(Period(today, today))
    assert counted[today] == {"rate_limited": 1, "moderated": 1}
    assert value("tatartours_chat_errors_total", code="moderated") == moderated_before + 1
