"""Personas and factories: build state through the actions, as users would."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from channels.testing import WebsocketCommunicator

from tours.models import Tour

SITE_ORIGIN = (b"origin", b"http://testserver")


def make_tour(**overrides: Any) -> Tour:
    start = overrides.pop("start_date", date.today() + timedelta(days=30))
    defaults: dict[str, Any] = {
        "title": "Казанский Кремль и мечеть Кул-Шариф",
        "slug": f"kazan-kremlin-{uuid.uuid4().hex[:6]}",
        "short_description": "Обзорная экскурсия по Кремлю",
        "description": "Белокаменный Кремль, башня Сююмбике, мечеть Кул-Шариф.",
        "place": "Казань",
        "price_per_person": Decimal("2500.00"),
        "start_date": start,
        "end_date": start,
        "duration_hours": 4,
        "max_participants": 20,
        "places_booked": 5,
        "status": Tour.Status.PUBLISHED,
    }
    defaults.update(overrides)
    return Tour.objects.create(**defaults)


def new_client_id() -> str:
    return str(uuid.uuid4())


class VisitorSocket:
    """A visitor's browser tab speaking the wire contract to the real ASGI app."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.registered: dict[str, Any] = {}

    @classmethod
    async def open(cls, *, origin: bytes = b"http://testserver", **kwargs: Any) -> VisitorSocket:
        from tatartours.asgi import application

        headers = [(b"origin", origin), *kwargs.pop("headers", [])]
        communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers, **kwargs)
        connected, _ = await communicator.connect()
        assert connected, "visitor socket refused"
        return cls(communicator)

    async def register(self, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "register", **fields})
        self.registered = await self.expect("registered")
        return self.registered

    @property
    def token(self) -> str:
        return str(self.registered["token"])

    @property
    def session_id(self) -> str:
        return str(self.registered["session_id"])

    async def send(self, frame: dict[str, Any]) -> None:
        await self.communicator.send_json_to(frame)

    async def say(self, text: str, client_id: str | None = None, **extra: Any) -> str:
        client_id = client_id or new_client_id()
        await self.send({"type": "message", "client_id": client_id, "message": text, **extra})
        return client_id

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        frame: dict[str, Any] = await self.communicator.receive_json_from(timeout=timeout)
        return frame

    async def expect(self, frame_type: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame, which must be of `frame_type`."""
        frame = await self.receive(timeout)
        assert frame["type"] == frame_type, f"expected {frame_type}, got {frame}"
        return frame

    async def until(
        self, frame_type: str, timeout: float = 10
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Frames up to and including the first of `frame_type` (skipped ones returned too)."""
        seen: list[dict[str, Any]] = []
        while True:
            frame = await self.receive(timeout)
            seen.append(frame)
            if frame["type"] == frame_type:
                return frame, seen

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()
