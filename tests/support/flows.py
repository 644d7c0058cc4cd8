"""Common openings of the support tests, built from what users do."""

from __future__ import annotations

from typing import Any

from tests.factories import OperatorSocket, VisitorSocket


async def queued_visitor(visitor: Any, **register: Any) -> VisitorSocket:
    """A visitor who asked the AI something, then asked for an operator."""
    guest: VisitorSocket = await visitor(**register)
    await guest.say("Сколько стоит тур?")
    await guest.until("ai_response")
    await guest.send({"type": "request_support", "reason": "Хочу живого человека"})
    await guest.until("support_pending")
    return guest


async def in_conversation(
    visitor: Any, operator: Any, **profile: Any
) -> tuple[VisitorSocket, OperatorSocket]:
    """A visitor and the operator who took their chat, both past the handoff frames."""
    alia: OperatorSocket = await operator(**profile)
    guest = await queued_visitor(visitor)
    await alia.join(guest.session_id)
    await alia.until("support_chat_joined", session_id=guest.session_id)
    await guest.until("support_joined")
    return guest, alia


async def drain(socket: Any, quiet: float = 0.4) -> list[dict[str, Any]]:
    """Everything the socket receives until it has been quiet for `quiet` seconds."""
    frames: list[dict[str, Any]] = []
    while not await socket.nothing_more(quiet):
        frames.append(await socket.receive())
    return frames


async def until_matching(socket: Any, frame_type: str, **match: Any) -> dict[str, Any]:
    """The first frame of `frame_type` whose fields equal `match` (others skipped)."""
    while True:
        frame, _ = await socket.until(frame_type)
        if all(frame.get(key) == value for key, value in match.items()):
            return dict(frame)
