"""The stack's floor: the relay with nothing of ours in it.

An ASGI application served by the same daphne (or uvicorn), with the same
Channels version and the same Redis channel layer as the chat, whose only
consumer relays text between the two sockets of a pair through a group: no
Django ORM, no PostgreSQL, no authentication, origin check, rate limit,
moderation or JSON parsing. The `relay-floor` scenario measures it exactly
like `relay` measures the chat, so the gap between the two is what our code
costs, and the floor itself is the best this stack can do on this machine.

Run only by the benchmark (`python -m bench run --scenario relay-floor`);
never routed by the site.
"""

from __future__ import annotations

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tatartours.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class RelayFloorConsumer(AsyncWebsocketConsumer):
    """Both sockets of pair N join group `floor-N`; a text from one goes to the other."""

    group = ""

    async def connect(self) -> None:
        self.group = f"floor-{self.scope['url_route']['kwargs']['pair']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": "relay.text", "text": text_data, "origin": self.channel_name}
        )

    async def relay_text(self, event: dict[str, Any]) -> None:
        # The sender is a member of the group too and drops its own text, as
        # the chat's sockets drop an event whose `origin` they are.
        if event["origin"] != self.channel_name:
            await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("floor/relay/<int:pair>/", RelayFloorConsumer.as_asgi())])}
)
