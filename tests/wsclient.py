"""A plain WebSocket client's helpers for tests that talk to real daphne processes.

Every frame a test client receives (here, and the personas of tests/factories.py)
goes through `received`: checked against its typed definition
(chat/frames_out.py, support/frames_out.py), so a test that receives a frame
docs/protocol.md does not allow fails there, and counted in `SEEN` for the
session's report of the frame types the suite saw (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection

from chat.frames_out import VISITOR_OUT, FrameCheck
from support.frames_out import OPERATOR_OUT

Side = Literal["visitor", "operator"]
CHECKS: dict[Side, FrameCheck] = {"visitor": VISITOR_OUT, "operator": OPERATOR_OUT}
# (side, frame type) -> how many frames of it test clients received in this session.
SEEN: Counter[tuple[Side, str]] = Counter()


def received(side: Side, frame: Any) -> dict[str, Any]:
    """`frame`, which a `side` socket received, if the protocol allows it (else AssertionError)."""
    frame_type = CHECKS[side].check(frame)
    SEEN[side, frame_type] += 1
    result: dict[str, Any] = frame
    return result


def side_of(ws: ClientConnection) -> Side:
    """Which socket `ws` is, by the path it connected to."""
    return (
        "operator"
        if ws.request is not None and ws.request.path.startswith("/ws/support")
        else "visitor"
    )


async def recv_frame(ws: ClientConnection) -> dict[str, Any]:
    """The next frame `ws` receives, checked as `received` checks it."""
    return received(side_of(ws), json.loads(await ws.recv(decode=True)))


async def next_of(ws: ClientConnection, frame_type: str, timeout: float = 15) -> dict[str, Any]:
    """The first frame of `frame_type` (others skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = received(side_of(ws), json.loads(await ws.recv(decode=True)))
            if frame["type"] == frame_type:
                return frame


async def send(ws: ClientConnection, **frame: Any) -> None:
    await ws.send(json.dumps(frame))
