"""Behind the shipped nginx, a client cannot choose its IP, for HTTP as for sockets.

nginx appends the address it saw to X-Forwarded-For, after whatever the
client wrote there. daphne runs with docker-compose.yml's own command line
and TRUSTED_PROXY_COUNT=1 (compose's value): the throttles and /metrics must
take the address nginx saw, never the client's claim.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from tests.security.nginx import compose_daphne, shipped_nginx
from tests.wsclient import recv_frame

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def non_loopback_address() -> str | None:
    """This machine's address on its outward interface (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


OUTWARD = non_loopback_address()


@pytest.fixture(scope="module")
def proxy(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[int]:
    """nginx (shipped config) in front of daphne (compose's command); yields nginx's port."""
    workdir: Path = tmp_path_factory.mktemp("nginx")
    workdir.chmod(0o777)
    hosts = ",".join(filter(None, ["127.0.0.1", "localhost", OUTWARD]))
    with (
        django_db_blocker.unblock(),
        compose_daphne(
            workdir,
            TRUSTED_PROXY_COUNT="1",
            ALLOWED_HOSTS=hosts,
            LOGIN_RATE_LIMIT="3/h",
            LOGIN_RATE_LIMIT_PER_USERNAME="100/h",
            TICKET_RATE_LIMIT="2/h",
            CHAT_CONNECTIONS_PER_MINUTE="2",
            OPENROUTER_API_KEY="",
        ) as daphne,
        shipped_nginx(daphne, workdir) as port,
    ):
        yield port


def spoofed(n: int) -> dict[str, str]:
    """A different made-up client address each time, written where nginx appends."""
    return {"X-Forwarded-For": f"203.0.113.{n}"}


def test_login_attempts_count_the_address_nginx_saw(proxy: int) -> None:
    base = f"http://127.0.0.1:{proxy}"
    with httpx.Client(base_url=base, timeout=10) as client:
        page = client.get("/accounts/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, page.text[:500]
        statuses = [
            client.post(
                "/accounts/login/",
                data={"username": f"u{n}", "password": "x", "csrfmiddlewaretoken": match[1]},
                headers=spoofed(n),
            ).status_code
            for n in range(4)
        ]
    assert statuses == [200, 200, 200, 429]


def test_offline_tickets_count_the_address_nginx_saw(proxy: int) -> None:
    base = f"http://127.0.0.1:{proxy}"
    ticket = {"name": "Ильдар", "phone": "+7 917 123-45-67", "question": "Перезвоните"}
    statuses = [
        httpx.post(
            f"{base}/support/offline-ticket/",
            content=json.dumps(ticket),
            headers={"Content-Type": "application/json", "Origin": base, **spoofed(n)},
            timeout=10,
        ).status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]


@pytest.mark.skipif(OUTWARD is None, reason="no non-loopback interface to come from")
def test_metrics_trusts_no_written_loopback_address(proxy: int) -> None:
    response = httpx.get(
        f"http://{OUTWARD}:{proxy}/metrics",
        headers={"X-Forwarded-For": "127.0.0.1"},
        timeout=10,
    )
    assert response.status_code == 403
    # The machine itself, through the same proxy, is still trusted.
    assert httpx.get(f"http://127.0.0.1:{proxy}/metrics", timeout=10).status_code == 200


async def test_the_visitor_socket_works_through_nginx_and_counts_the_real_address(
    proxy: int,
) -> None:
    url, origin = f"ws://127.0.0.1:{proxy}/ws/chat/", Origin(f"http://127.0.0.1:{proxy}")
    outcomes = []
    for n in range(3):
        async with connect(
            url, origin=origin, additional_headers=spoofed(n), open_timeout=10
        ) as ws:
            frame = {}
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps({"type": "register"}))
                frame = await recv_frame(ws)
            outcomes.append(frame.get("type"))
            if ws.close_code is not None or frame.get("type") == "error":
                await ws.wait_closed()
                outcomes[-1] = ws.close_code
    assert outcomes == ["registered", "registered", 4429]
