"""The AI answer's text coalesced into `ai_chunk` frames (chat.ai_reply.ChunkBatcher)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from chat.ai_reply import CHUNK_FLUSH_SECONDS, CHUNK_STALL_SECONDS, ChunkBatcher


class Socket:
    def __init__(self) -> None:
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self.arrived = asyncio.Event()

    async def send(self, frame: dict[str, Any]) -> None:
        self.frames.append((time.monotonic(), frame))
        self.arrived.set()

    @property
    def texts(self) -> list[str]:
        return [frame["text"] for _, frame in self.frames]


async def test_the_first_piece_goes_at_once_and_the_next_ones_ride_with_a_later_piece():
    socket = Socket()
    batcher = ChunkBatcher(socket.send, reply_to=7)
    await batcher.add("Раз ")
    assert socket.texts == ["Раз "]
    await batcher.add("два ")
    await batcher.add("три ")
    assert socket.texts == ["Раз "]  # inside the window: waiting
    await asyncio.sleep(CHUNK_FLUSH_SECONDS + 0.005)
    await batcher.add("четыре")
    assert socket.texts == ["Раз ", "два три четыре"]
    assert all(
        frame == {"type": "ai_chunk", "reply_to": 7, "text": frame["text"]}
        for _, frame in socket.frames
    )
    batcher.cancel()


async def test_text_left_waiting_by_a_stalled_stream_is_sent_by_the_timer():
    # A tool call or a slow model: no next piece to carry the window's text.
    socket = Socket()
    batcher = ChunkBatcher(socket.send, reply_to=7)
    await batcher.add("Раз ")
    socket.arrived.clear()
    added = time.monotonic()
    await batcher.add("два")
    await asyncio.wait_for(socket.arrived.wait(), timeout=1.0)
    sent_at, frame = socket.frames[-1]
    assert frame["text"] == "два"
    assert sent_at - added <= CHUNK_FLUSH_SECONDS + CHUNK_STALL_SECONDS + 0.05
    batcher.cancel()


async def test_the_end_of_the_answer_flushes_at_once_and_cancels_the_timer():
    socket = Socket()
    batcher = ChunkBatcher(socket.send, reply_to=7)
    await batcher.add("Раз ")
    await batcher.add("два")
    await batcher.flush()
    assert socket.texts == ["Раз ", "два"]
    # The timer would have sent an empty buffer: nothing more comes. A later frame
    # proves it: one added after the timer's time goes out alone.
    await asyncio.sleep(CHUNK_FLUSH_SECONDS + CHUNK_STALL_SECONDS + 0.01)
    await batcher.add("три")
    assert socket.texts == ["Раз ", "два", "три"]
    batcher.cancel()
