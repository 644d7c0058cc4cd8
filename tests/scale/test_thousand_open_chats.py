"""Operators connect and work with 1,000 open chats (issue 14, item 5).

The initial `queue` frame used to carry every waiting chat: at about 300 it
passed daphne's 64 KiB frame limit and every operator socket was refused.
Here 700 chats wait (each with the longest reason a visitor may give) and
300 are held by one operator, against a real daphne with the contract's
64 KiB limit; the queue comes a page at a time. The dashboard in Chromium:
tests/browser/test_dashboard_many_chats.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from websockets.asyncio.client import connect
from websockets.typing import Origin

from chat import actions as chat_actions
from chat.publish import collecting
from support import actions
from tests.factories import make_operator, session_cookie
from tests.servers import ServerProcess, running_daphne
from tests.wsclient import next_of, send

pytestmark = [pytest.mark.heavy, pytest.mark.server, pytest.mark.django_db(transaction=True)]

WAITING = 700
HELD = 300
FRAME_LIMIT = 64 * 1024
# The longest reason the socket accepts, in Cyrillic (two bytes a letter).
REASON = ("Хочу узнать про тур в Свияжск " * 20)[:500]
PASSWORD = "Kazan-Kremlin-1552"


def _open_chats() -> tuple[Any, Any]:
    """700 waiting chats and 300 held by one operator, built through the actions.

    In one transaction (one commit, not 3,000); their events are collected,
    not published: nobody is connected yet.
    """
    with collecting(), transaction.atomic():
        return _build()


def _build() -> tuple[Any, Any]:
    holder = make_operator(name="Алия", max_chats=HELD)
    other = make_operator(name="Руслан")
    other.set_password(PASSWORD)
    other.save(update_fields=["password"])
    for n in range(WAITING + HELD):
        session = chat_actions.register_visitor(
            token=None, tour_slug=None, user_id=None, client_ip="127.0.0.1"
        ).session
        actions.request_support(session_pk=session.pk, reason=REASON)
        if n >= WAITING:
            actions.join_support_chat(operator_id=holder.pk, session_id=session.public_id)
    return holder, other


@pytest.fixture
async def open_chats() -> tuple[Any, Any]:
    return await database_sync_to_async(_open_chats)()


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    with running_daphne(OPENROUTER_API_KEY="") as process:
        yield process


async def _desk(server: ServerProcess, user: Any) -> Any:
    cookie = await database_sync_to_async(session_cookie)(user)
    return connect(
        f"{server.ws_url}/ws/support/",
        origin=Origin(server.http_url),
        additional_headers={"Cookie": f"sessionid={cookie}"},
        open_timeout=10,
        max_size=None,  # the server's limit is what is tested
    )


async def _raw_frame(desk: Any, frame_type: str) -> tuple[dict[str, Any], int]:
    while True:
        raw = await desk.recv(decode=False)
        frame: dict[str, Any] = json.loads(raw)
        if frame["type"] == frame_type:
            return frame, len(raw)


async def _page(desk: Any) -> dict[str, Any]:
    """The reply to a `get_queue` with an offset > 0.

    The queue broadcast on a change (here: this operator coming online) is
    always the first page (docs/protocol.md) and may come at any moment
    while paging; it must fit the limit too, and is not the reply.
    """
    while True:
        frame, size = await _raw_frame(desk, "queue")
        assert size < FRAME_LIMIT
        if frame["offset"] != 0:
            return frame


async def test_operators_connect_and_page_through_1000_open_chats_in_frames_under_64_kib(
    server, open_chats
):
    holder, other = open_chats
    async with await _desk(server, other) as desk:
        first, size = await _raw_frame(desk, "queue")
        assert size < FRAME_LIMIT
        assert first["total"] == WAITING
        assert first["has_more"] is True
        assert first["assigned_total"] == HELD
        assert 0 < len(first["assigned"]) <= HELD
        seen = list(first["requests"])
        while len(seen) < WAITING:
            await send(desk, type="get_queue", offset=len(seen))
            page = await _page(desk)
            assert page["offset"] == len(seen)
            assert page["requests"], "an empty page before the end"
            seen += page["requests"]
        assert page["has_more"] is False
        assert [r["position"] for r in seen] == list(range(1, WAITING + 1))
        assert len({r["session_id"] for r in seen}) == WAITING
        # Past the end: an empty page, not an error.
        await send(desk, type="get_queue", offset=WAITING + 5)
        past = await _page(desk)
        assert past["offset"] == WAITING + 5
        assert past["requests"] == [] and past["has_more"] is False

    # The operator holding 300 chats connects and is sent each of them.
    async with await _desk(server, holder) as desk:
        _queue, size = await _raw_frame(desk, "queue")
        assert size < FRAME_LIMIT
        opened: set[str] = set()
        while len(opened) < HELD:
            joined = await next_of(desk, "support_chat_joined", timeout=60)
            opened.add(joined["session_id"])
        assert len(opened) == HELD
