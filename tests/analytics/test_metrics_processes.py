"""/metrics from real daphne processes: alone, and summed in multi-process mode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect
from websockets.typing import Origin

from tests.analytics.dataset import Chat
from tests.servers import ServerProcess, start_daphne
from tests.wsclient import recv_frame

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def open_sockets(server: ServerProcess) -> float | None:
    return gauge(server, "tatartours_websockets_open", consumer="VisitorConsumer")


def gauge(server: ServerProcess, name: str, **labels: str) -> float | None:
    response = httpx.get(f"{server.http_url}/metrics", timeout=10)
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


async def open_visitors(stack: AsyncExitStack, server: ServerProcess, count: int) -> None:
    origin = Origin(f"http://127.0.0.1:{server.port}")
    for _ in range(count):
        ws = await stack.enter_async_context(
            connect(f"{server.ws_url}/ws/chat/", origin=origin, open_timeout=10)
        )
        await ws.send(json.dumps({"type": "register"}))
        assert (await recv_frame(ws))["type"] == "registered"


async def eventually(
    check: Callable[[], float | None], expected: float, timeout: float = 10
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    value = None
    while loop.time() < deadline:
        value = await asyncio.to_thread(check)
        if value == expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"expected {expected}, last saw {value}")


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    process = start_daphne()
    yield process
    process.stop()


async def test_a_single_process_reports_its_sockets_and_the_live_queue(
    server: ServerProcess,
) -> None:
    now = timezone.now()
    await asyncio.to_thread(lambda: Chat(now).handoff(now))

    async with AsyncExitStack() as stack:
        await open_visitors(stack, server, 2)
        await eventually(partial(open_sockets, server), 2)
        assert await asyncio.to_thread(gauge, server, "tatartours_support_queue_length") == 1
        up = await asyncio.to_thread(gauge, server, "tatartours_live_state_up", store="redis")
        assert up == 1  # operator presence read from Redis inside daphne
    await eventually(partial(open_sockets, server), 0)


async def test_multiprocess_mode_sums_the_sockets_of_every_process(tmp_path: Path) -> None:
    first = start_daphne(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    second = start_daphne(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    try:
        async with AsyncExitStack() as stack:
            await open_visitors(stack, first, 1)
            await open_visitors(stack, second, 2)
            for server in (first, second):
                await eventually(partial(open_sockets, server), 3)
                connections = await asyncio.to_thread(
                    gauge,
                    server,
                    "tatartours_websocket_connections_total",
                    consumer="VisitorConsumer",
                )
                assert connections == 3
    finally:
        first.stop()
        second.stop()
