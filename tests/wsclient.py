"""A plain WebSocket client's helpers for tests that talk to real daphne processes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection


async def next_of(ws: ClientConnection, frame_type: str, timeout: float = 15) -> dict[str, Any]:
    """The first frame of `frame_type` (others skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv(decode=True))
            if frame["type"] == frame_type:
                return frame


async def send(ws: ClientConnection, **frame: Any) -> None:
    await ws.send(json.dumps(frame))
