"""Asking the question set through the real visitor socket, one fresh session per question.

For each question: connect to /ws/chat/, `register` (with the tour page, if
the question is asked from one), send the `message`, and collect frames
until the answer is complete:

- `ai_response` then `ai_typing` false ends it; if the stored answer says
  a handoff follows (its `meta.handoff`, the flag after which
  chat/ai_reply.py queues the chat), we wait for that frame too, so that no
  fixed sleep decides whether a handoff "arrived";
- `support_pending`/`support_joined` before the AI started typing ends it
  too (an operator takes it and the AI does not answer);
- `support_pending`, `support_unavailable`, `support_joined` and an
  operator-offer field on `ai_response` are handoff signals.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Origin

from evaluation.questionset import Question
from evaluation.scoring import Exchange

HANDOFF_FRAMES = ("support_pending", "support_unavailable", "support_joined")
# Fields an `ai_response` may carry to offer the operator button (any truthy one counts).
OFFER_FIELDS = ("offer_operator", "handoff_offer", "offer_support", "handoff")

HandoffComing = Callable[[int], Awaitable[bool]]


def page_origin(ws_url: str) -> Origin:
    """The origin a page served by that server sends: scheme, host and port (origins.py)."""
    parts = urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return Origin(f"{scheme}://{parts.netloc}")


async def _no_handoff_record(message_id: int) -> bool:
    return False


async def ask(
    ws_url: str,
    question: Question,
    *,
    timeout: float = 30.0,
    handoff_coming: HandoffComing = _no_handoff_record,
) -> Exchange:
    """One question in a fresh chat session; never raises (failures are in `.error`)."""
    exchange = Exchange(question.id)
    started = time.monotonic()
    try:
        async with (
            asyncio.timeout(timeout),
            connect(
                f"{ws_url}/ws/chat/", origin=page_origin(ws_url), open_timeout=10, max_size=2**20
            ) as ws,
        ):
            register: dict[str, Any] = {"type": "register"}
            if question.page:
                register["tour"] = question.page
            await ws.send(json.dumps(register))
            await _registered(ws, exchange)
            message: dict[str, Any] = {
                "type": "message",
                "client_id": str(uuid.uuid4()),
                "message": question.text,
            }
            if question.page:
                message["tour"] = question.page
            await ws.send(json.dumps(message, ensure_ascii=False))
            await _collect(ws, exchange, handoff_coming)
    except TimeoutError:
        exchange.error = f"no complete answer in {timeout:g} s (frames: {exchange.frame_types})"
    except (OSError, WebSocketException) as error:
        exchange.error = f"socket: {error!r}"
    exchange.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return exchange


async def _frame(ws: ClientConnection, exchange: Exchange) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await ws.recv(decode=True))
    exchange.frame_types.append(str(frame.get("type")))
    return frame


async def _registered(ws: ClientConnection, exchange: Exchange) -> None:
    while True:
        frame = await _frame(ws, exchange)
        if frame["type"] == "registered":
            return
        if frame["type"] == "error":
            raise _Refused(frame)


class _Refused(WebSocketException):
    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(f"error {frame.get('code')}: {frame.get('message')}")


async def _collect(ws: ClientConnection, exchange: Exchange, handoff_coming: HandoffComing) -> None:
    typing_seen = False
    answer_id: int | None = None
    while True:
        frame = await _frame(ws, exchange)
        kind = frame["type"]
        if kind == "error":
            exchange.error = f"error {frame.get('code')}: {frame.get('message')}"
            return
        if kind in HANDOFF_FRAMES:
            exchange.handoff_signals.append(kind)
            if answer_id is not None or (kind != "support_unavailable" and not typing_seen):
                return  # the handoff after the answer, or an operator instead of the AI
        elif kind == "ai_typing" and frame.get("typing"):
            typing_seen = True
        elif kind == "ai_response":
            answer_id = int(frame["id"])
            exchange.answer = str(frame.get("message", ""))
            exchange.source = str(frame.get("source", ""))
            exchange.handoff_signals += [
                f"ai_response.{name}" for name in OFFER_FIELDS if frame.get(name)
            ]
        elif (
            # The answer is complete. A handoff the answer decided comes after it.
            kind == "ai_typing"
            and answer_id is not None
            and (exchange.handed_off or not await handoff_coming(answer_id))
        ):
            return
