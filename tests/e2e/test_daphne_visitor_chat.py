"""The whole stack as deployed: a real daphne process, a real WebSocket client,
the AI pointed at the fake OpenRouter server on loopback."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from chat.models import ChatMessage
from tests.fakes.openrouter import FakeOpenRouter
from tests.servers import ServerProcess, start_daphne_with_model
from tests.wsclient import recv_frame

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def model() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(first_token_delay=0.05, tokens_per_second=200) as fake:
        yield fake


@pytest.fixture
def server(model: FakeOpenRouter) -> Iterator[ServerProcess]:
    process = start_daphne_with_model(
        model.base_url, AI_MODELS="openai/gpt-4,meta-llama/llama-3.1-8b-instruct"
    )
    yield process
    process.stop()


async def _frames_until(ws: ClientConnection, frame_type: str) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = await recv_frame(ws)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


async def test_visitor_chats_with_the_ai_through_a_real_daphne(server, model):
    origin = f"http://127.0.0.1:{server.port}"
    async with connect(f"{server.ws_url}/ws/chat/", origin=Origin(origin), open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "register"}))
        registered = await recv_frame(ws)
        assert registered["type"] == "registered"
        assert registered["status"] == "ai"

        client_id = str(uuid.uuid4())
        question = "Какие туры есть в Казани?"
        await ws.send(json.dumps({"type": "message", "client_id": client_id, "message": question}))
        frames = await _frames_until(ws, "ai_response")
        frames += await _frames_until(ws, "ai_typing")

    types = [f["type"] for f in frames]
    assert types[0] == "message_ack"
    assert types[1] == "ai_typing"
    assert types[-2:] == ["ai_response", "ai_typing"]
    assert "ai_chunk" in types
    ack, response = frames[0], frames[-2]
    assert ack["client_id"] == client_id
    assert response["reply_to"] == ack["id"]
    streamed = "".join(f["text"] for f in frames if f["type"] == "ai_chunk")
    assert streamed.strip() == response["message"].strip()

    # The model really was asked, with our question and the site's headers.
    request = model.last
    assert request.headers["authorization"] == "Bearer test-key"
    assert question in json.dumps(request.json, ensure_ascii=False)
    stored = await ChatMessage.objects.aget(id=response["id"])
    assert stored.author == "ai"
    assert stored.text == response["message"]
    assert stored.ai_model


async def test_a_foreign_origin_cannot_open_the_visitor_socket(server):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"{server.ws_url}/ws/chat/", origin=Origin("https://evil.example"), open_timeout=10
        ):
            pass
    assert refused.value.response.status_code == 403
