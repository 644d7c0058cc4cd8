"""The AI chat's floor: an answered question with nothing of ours in it.

An ASGI application served by the same daphne (or uvicorn), with the same
Channels version and the same channel layer as the chat, whose only consumer
speaks just enough of the visitor protocol for the `ai-*` load generator:
`register` gets `registered`; a `message` gets its `message_ack` at once,
`ai_typing` true, the fake model's streamed answer as `ai_chunk`s coalesced
like the chat's (one frame per 45 ms, straight to the socket), then
`ai_response` and `ai_typing` false through the socket's group, as the chat
announces a stored answer. The model is called with httpx on the
httpx-aiohttp transport, the chat's HTTP client, and its SSE lines are read
with nothing but `json.loads`.

No Django ORM, no PostgreSQL, no rate limits, moderation, prompt, FAQ
search or generation lock. The `ai-floor` scenario measures it exactly like
`ai-50x10` measures the chat (the same 50 visitors in lockstep), so the gap
between the two is what our code costs, and the floor's own tails are the
best this stack allows for that burst on this machine.

Run only by the benchmark (`python -m bench run --scenario ai-floor`); never
routed by the site.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
import uuid
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tatartours.settings")
django.setup()

import httpx  # noqa: E402
import httpx_aiohttp  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

# The chat's window (chat/ai_reply.py CHUNK_FLUSH_SECONDS), written here
# again so that the floor imports nothing of ours.
CHUNK_FLUSH_SECONDS = 0.045

_message_ids = itertools.count(1)
_client: httpx.AsyncClient | None = None


def client() -> httpx.AsyncClient:
    global _client
    if _client is None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        _client = httpx.AsyncClient(
            transport=httpx_aiohttp.AiohttpTransport(limits=limits),
            limits=limits,
            timeout=httpx.Timeout(30.0),
        )
    return _client


class AIFloorConsumer(AsyncWebsocketConsumer):
    group = ""
    answering: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.group = f"ai-floor-{uuid.uuid4().hex}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.answering is not None:
            self.answering.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = json.loads(text_data or "{}")
        if frame.get("type") == "register":
            await self.send_json({"type": "registered", "session_id": self.group})
        elif frame.get("type") == "message":
            message_id = next(_message_ids)
            await self.send_json(
                {"type": "message_ack", "client_id": frame.get("client_id"), "id": message_id}
            )
            self.answering = asyncio.create_task(self.answer(message_id, frame["message"]))

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def answer(self, message_id: int, question: str) -> None:
        await self.send_json({"type": "ai_typing", "typing": True})
        body = {
            "model": "bench/model",
            "stream": True,
            "messages": [{"role": "user", "content": question}],
        }
        parts: list[str] = []
        pending: list[str] = []
        last_flush = 0.0
        url = f"{settings.OPENROUTER_BASE_URL.rstrip('/')}/chat/completions"
        headers = {"Authorization": f"Bearer {settings.OPENROUTER_API_KEY}"}
        async with client().stream("POST", url, json=body, headers=headers) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choices = json.loads(line[6:]).get("choices") or [{}]
                text = (choices[0].get("delta") or {}).get("content") or ""
                if not text:
                    continue
                parts.append(text)
                pending.append(text)
                # Sent when the window has passed; the chat's timer for the
                # last words is replaced by the flush after the stream.
                if time.monotonic() - last_flush >= CHUNK_FLUSH_SECONDS:
                    await self.send_json(
                        {"type": "ai_chunk", "reply_to": message_id, "text": "".join(pending)}
                    )
                    pending.clear()
                    last_flush = time.monotonic()
        if pending:
            await self.send_json(
                {"type": "ai_chunk", "reply_to": message_id, "text": "".join(pending)}
            )
        answer = {
            "type": "ai_response",
            "id": next(_message_ids),
            "reply_to": message_id,
            "message": "".join(parts),
        }
        await self.channel_layer.group_send(
            self.group,
            {"type": "floor.frames", "frames": [answer, {"type": "ai_typing", "typing": False}]},
        )

    async def floor_frames(self, event: dict[str, Any]) -> None:
        for frame in event["frames"]:
            await self.send_json(frame)


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/chat/", AIFloorConsumer.as_asgi())])}
)
