"""Bad input always gets the contract's error frame, and the socket stays open."""

from __future__ import annotations

import pytest

from chat.models import ChatMessage
from tests.factories import VisitorSocket, new_client_id

pytestmark = pytest.mark.django_db(transaction=True)


async def _error_for(socket: VisitorSocket, raw: str) -> dict:
    await socket.communicator.send_to(text_data=raw)
    return await socket.expect("error")


async def _still_open(socket: VisitorSocket) -> None:
    await socket.say("Я всё ещё здесь")
    await socket.expect("message_ack")


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        " ",
        "[1, 2]",
        '"text"',
        "42",
        '{"type": "message", "n": NaN}',
        '{"type": "typing", "typing": Infinity}',
    ],
)
async def test_invalid_json_is_refused(visitor, raw):
    socket = await visitor()
    error = await _error_for(socket, raw)
    assert error["code"] == "invalid_json"
    assert error["message"]
    await _still_open(socket)


async def test_unknown_type_is_refused(visitor):
    socket = await visitor()
    error = await _error_for(socket, '{"type": "drop_tables"}')
    assert error["code"] == "unknown_type"
    await _still_open(socket)


async def test_operator_only_types_are_unknown_on_the_visitor_socket(visitor):
    socket = await visitor()
    for frame_type in ("join_support_chat", "close_chat", "get_queue"):
        error = await _error_for(socket, f'{{"type": "{frame_type}", "session_id": "x"}}')
        assert error["code"] == "unknown_type"


@pytest.mark.parametrize(
    "frame",
    [
        {"type": 5},
        {"no_type": "message"},
        {"type": "message", "message": "без client_id"},
        {"type": "message", "client_id": "not-a-uuid", "message": "текст"},
        {"type": "message", "client_id": 12, "message": "текст"},
        {"type": "message", "client_id": "CID", "message": 42},
        {"type": "message", "client_id": "CID"},
        {"type": "message", "client_id": "CID", "message": "   "},
        {"type": "message", "client_id": "CID", "message": "нуль\u0000внутри"},
        {"type": "message", "client_id": "CID", "message": "\ud800одинокий суррогат"},
        {"type": "typing", "typing": "yes"},
        {"type": "register", "after": -1},
        {"type": "register", "after": True},
        {"type": "register", "tour": "<script>"},
        {"type": "rate", "score": 7},
        {"type": "rate", "score": "5"},
    ],
)
async def test_missing_or_mistyped_fields_are_invalid(visitor, frame):
    socket = await visitor()
    frame = {k: (new_client_id() if v == "CID" else v) for k, v in frame.items()}
    await socket.send(frame)
    error = await socket.expect("error")
    assert error["code"] == "invalid", error
    await _still_open(socket)


async def test_too_long_message_is_refused_and_not_stored(visitor):
    socket = await visitor()
    client_id = new_client_id()
    await socket.send({"type": "message", "client_id": client_id, "message": "я" * 2001})
    error = await socket.expect("error")
    assert error["code"] == "too_long"
    assert error["client_id"] == client_id
    assert not await ChatMessage.objects.aexists()
    await _still_open(socket)


async def test_exactly_the_limit_is_accepted_after_trimming(visitor):
    socket = await visitor()
    await socket.say("  " + "я" * 2000 + "  ")
    ack = await socket.expect("message_ack")
    assert len((await ChatMessage.objects.aget(id=ack["id"])).text) == 2000


async def test_messages_before_register_are_refused():
    socket = await VisitorSocket.open()
    try:
        await socket.say("Привет")
        error = await socket.expect("error")
        assert error["code"] == "invalid"
        assert not await ChatMessage.objects.aexists()
    finally:
        await socket.close()


async def test_binary_frames_close_the_socket_with_1003():
    socket = await VisitorSocket.open()
    await socket.communicator.send_to(bytes_data=b"\x00\x01")
    closed = await socket.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 1003}
    await socket.close()


async def test_oversized_frames_close_the_socket_with_1009():
    socket = await VisitorSocket.open()
    await socket.communicator.send_to(
        text_data='{"type":"message","message":"' + "x" * 70000 + '"}'
    )
    closed = await socket.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 1009}
    await socket.close()


async def test_error_messages_are_in_russian(visitor):
    socket = await visitor()
    error = await _error_for(socket, "{oops")
    assert "JSON" in error["message"]
    assert "Сообщение" in error["message"]
