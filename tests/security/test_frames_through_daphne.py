"""Hostile frames against a real daphne process: clear errors or close codes, no crash.

daphne enforces the 64 KiB frame limit itself (--websocket-max-message-size),
so only a real server shows it. After every test the server's log must hold
no traceback and no ERROR line.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from chat.models import ChatMessage
from tests.servers import ServerProcess, start_daphne
from tests.wsclient import recv_frame

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

FRAME_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def daphne(django_db_setup: Any, django_db_blocker: Any) -> Iterator[ServerProcess]:
    with django_db_blocker.unblock():
        server = start_daphne(OPENROUTER_API_KEY="")
    yield server
    server.stop()


@pytest.fixture
def clean_log(daphne: ServerProcess) -> Iterator[None]:
    """The server logged no traceback and no error during the test."""
    before = len(daphne.log())
    yield
    new = daphne.log()[before:]
    assert "Traceback" not in new, new
    assert " ERROR " not in new, new


@pytest.fixture
async def ws(daphne: ServerProcess, clean_log: None) -> AsyncIterator[ClientConnection]:
    async with connect(
        f"{daphne.ws_url}/ws/chat/",
        origin=Origin(f"http://127.0.0.1:{daphne.port}"),
        open_timeout=10,
        max_size=None,
    ) as socket:
        await socket.send(json.dumps({"type": "register"}))
        registered = await recv_frame(socket)
        assert registered["type"] == "registered"
        yield socket
        # Before closing: closing cancels an answer that is not stored yet.
        await answers_stored()


async def answers_stored(timeout: float = 20) -> None:
    """Until the server (shared by the module) has stored the AI answer to the
    last visitor message: the test database is truncated after each test, and
    a TRUNCATE racing the answer's INSERT deadlocks."""
    async with asyncio.timeout(timeout):
        while True:
            last = await ChatMessage.objects.filter(author="visitor").order_by("-id").afirst()
            if (
                last is None
                or await ChatMessage.objects.filter(author="ai", id__gt=last.id).aexists()
            ):
                return
            await asyncio.sleep(0.05)


async def reply_to(ws: ClientConnection, raw: str | bytes) -> dict[str, Any]:
    """Send a raw frame; the first `error` or `message_ack` after it."""
    await ws.send(raw)
    while True:
        frame = await recv_frame(ws)
        if frame["type"] in {"error", "message_ack"}:
            return frame


async def still_open(ws: ClientConnection) -> None:
    frame = await reply_to(ws, json.dumps({"type": "ping-of-life"}))
    assert frame["code"] == "unknown_type"


def message(text: str, **extra: Any) -> str:
    return json.dumps(
        {"type": "message", "client_id": str(uuid.uuid4()), "message": text, **extra},
        ensure_ascii=False,
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ("", "invalid_json"),
        ("[1, 2, 3]", "invalid_json"),
        ('"a string"', "invalid_json"),
        ("null", "invalid_json"),
        ("42", "invalid_json"),
        ('{"type": "register", "after": NaN}', "invalid_json"),
        ('{"type": "register", "after": Infinity}', "invalid_json"),
        ('{"type": "register", "after": -Infinity}', "invalid_json"),
        ("[" * 5000 + "]" * 5000, "invalid_json"),
        ('{"type": "register", "after": ' + "9" * 5000 + "}", "invalid_json"),
        ("{}", "invalid"),
        ('{"type": 7}', "invalid"),
        ('{"type": ""}', "invalid"),
        ('{"type": "launch_missiles"}', "unknown_type"),
        ('{"type": "join_support_chat", "session_id": "x"}', "unknown_type"),
        ('{"type": "message"}', "invalid"),
        ('{"type": "message", "client_id": "not-a-uuid", "message": "hi"}', "invalid"),
        ('{"type": "message", "client_id": 12, "message": "hi"}', "invalid"),
        ('{"type": "typing", "typing": "yes"}', "invalid"),
        ('{"type": "rate", "score": true}', "invalid"),
        ('{"type": "rate", "score": 1.5}', "invalid"),
        ('{"type": "register", "after": 1e999}', "invalid"),
        ('{"type": "register", "after": -1}', "invalid"),
        ('{"type": "register", "after": 100000000000000000000000000}', "invalid"),
        ('{"type": "register", "tour": "kazan; DROP TABLE tours"}', "invalid"),
        ('{"type": "register", "tour": ["kazan"]}', "invalid"),
        ('{"type": "register", "token": {"$ne": null}}', "invalid"),
    ],
)
async def test_malformed_frames_get_their_error_and_the_socket_stays(ws, raw, code):
    frame = await reply_to(ws, raw)
    assert frame["type"] == "error"
    assert frame["code"] == code, frame
    assert frame["message"]
    await still_open(ws)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("NUL \u0000 inside", "invalid"),
        ("\u200b\u200c\u200d\ufeff", "invalid"),  # nothing visible: an empty message
        ("   \n\t  ", "invalid"),
        ("x" * 2001, "too_long"),
    ],
)
async def test_unstorable_or_empty_text_is_refused(ws, text, code):
    frame = await reply_to(ws, message(text))
    assert frame["type"] == "error"
    assert frame["code"] == code, frame
    assert not await ChatMessage.objects.aexists()
    await still_open(ws)


@pytest.mark.parametrize(
    "raw_text",
    [
        r"\ud800",  # a lone high surrogate
        r"\udfff tail",  # a lone low surrogate
        r"pair reversed \udc00\ud800",
    ],
)
async def test_lone_surrogates_are_refused(ws, raw_text):
    # Written by hand: json.dumps would escape the backslash, not send a surrogate.
    raw = f'{{"type": "message", "client_id": "{uuid.uuid4()}", "message": "{raw_text}"}}'
    frame = await reply_to(ws, raw)
    assert frame["code"] == "invalid"
    assert not await ChatMessage.objects.aexists()
    await still_open(ws)


@pytest.mark.parametrize(
    "text",
    [
        "Тур 😀👍🏽🇷🇺 👨‍👩‍👧‍👦",
        "مرحبا بكم في قازان",
        "שלום \u202eRTL override\u202c done",
        "zero\u200bwidth inside",
        "Z̸̢̛̖a̴̟͒l̷̰̓g̵̦̈́ő̶̧",
        "😀" * 2000,  # 2,000 characters, 8,000 bytes: within both limits
    ],
)
async def test_unusual_but_valid_unicode_is_stored_exactly(ws, text):
    frame = await reply_to(ws, message(text))
    assert frame["type"] == "message_ack", frame
    stored = await ChatMessage.objects.aget(id=frame["id"])
    assert stored.text == text.strip()


async def test_a_frame_over_64_kib_closes_the_socket_with_1009(ws):
    await ws.send(message("я" * FRAME_LIMIT))  # 128 KiB of UTF-8
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    assert not await ChatMessage.objects.aexists()


async def test_a_frame_just_under_64_kib_is_read_not_closed(ws):
    padding = "x" * (FRAME_LIMIT - 200)
    await ws.send(json.dumps({"type": "typing", "typing": True, "pad": padding}))
    await still_open(ws)


async def test_a_binary_frame_closes_the_socket_with_1003(ws):
    await ws.send(b"\x00\x01binary")
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1003


async def test_a_server_survives_every_hostile_frame(daphne, clean_log):
    """After all of the above the same process still serves a normal chat."""
    async with connect(
        f"{daphne.ws_url}/ws/chat/", origin=Origin(f"http://127.0.0.1:{daphne.port}")
    ) as socket:
        await socket.send(json.dumps({"type": "register"}))
        assert (await recv_frame(socket))["type"] == "registered"
        frame = await reply_to(socket, message("Добрый день!"))
        assert frame["type"] == "message_ack"
    assert daphne.process.poll() is None


@pytest.mark.parametrize(
    "raw",
    [
        # Written by hand: each holds a lone surrogate, which no UTF-8 frame can carry back.
        r'{"type": "\ud800"}',
        r'{"type": "x\udfff", "client_id": "\ud800"}',
        r'{"type": "message", "client_id": "\ud800", "message": "hi"}',
        r'{"type": "rate", "score": 0, "client_id": "\udc00"}',
        '{"type": "' + "t" * 30_000 + '"}',
    ],
    ids=["type", "type-and-client-id", "message-client-id", "rate-client-id", "long-type"],
)
async def test_unvalidated_input_is_never_echoed(ws, raw):
    """Only validated values go back: a lone surrogate in a reply crashed the socket (1011)."""
    frame = await reply_to(ws, raw)
    assert frame["type"] == "error"
    assert frame["code"] in {"unknown_type", "invalid"}, frame
    assert "client_id" not in frame
    assert len(frame["message"]) < 200
    await still_open(ws)
