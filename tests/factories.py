"""Personas and factories: build state through the actions, as users would."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Self

from channels.testing import WebsocketCommunicator

from tests.wsclient import Side, received
from tours.models import Tour

SITE_ORIGIN = (b"origin", b"http://testserver")
# The Host a browser sends with it: the origin check compares the two (scheme, host, port).
SITE_HOST = (b"host", b"testserver")


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


class PersonaSocket:
    """One persona's tab on the real ASGI app: the frame helpers both sides share.

    Visitor and operator speak different frames but read them the same way, so
    receiving, expecting and waiting live here once; each persona adds its own
    handshake, state and `say`.
    """

    side: Side  # which frames of docs/protocol.md this socket may receive

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    @classmethod
    async def handshake(
        cls, path: str, headers: list[tuple[bytes, bytes]], *, refused: str, **kwargs: Any
    ) -> Self:
        """Connect to `path` on the real ASGI app; `refused` is the failure message."""
        from tatartours.asgi import application

        if not any(name == b"host" for name, _ in headers):
            headers = [SITE_HOST, *headers]
        communicator = WebsocketCommunicator(application, path, headers=headers, **kwargs)
        connected, _ = await communicator.connect()
        assert connected, refused
        return cls(communicator)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.communicator.send_json_to(frame)

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        # Checked against the frame's typed definition: a frame the protocol does not
        # allow fails the test that received it.
        return received(self.side, await self.communicator.receive_json_from(timeout=timeout))

    async def expect(self, frame_type: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame, which must be of `frame_type`."""
        frame = await self.receive(timeout)
        assert frame["type"] == frame_type, f"expected {frame_type}, got {frame}"
        return frame

    async def until(
        self, frame_type: str, timeout: float = 10, **match: Any
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Frames up to the first of `frame_type` whose fields equal `match` (others skipped).

        Returns that frame and every frame seen on the way, itself included.
        """
        seen: list[dict[str, Any]] = []
        while True:
            frame = await self.receive(timeout)
            seen.append(frame)
            if frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items()):
                return frame, seen

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()


class VisitorSocket(PersonaSocket):
    """A visitor's browser tab speaking the wire contract to the real ASGI app."""

    side: Side = "visitor"

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        super().__init__(communicator)
        self.registered: dict[str, Any] = {}

    @classmethod
    async def open(cls, *, origin: bytes = b"http://testserver", **kwargs: Any) -> Self:
        headers = [(b"origin", origin), *kwargs.pop("headers", [])]
        return await cls.handshake("/ws/chat/", headers, refused="visitor socket refused", **kwargs)

    @classmethod
    async def logged_in_as(cls, user: Any) -> Self:
        """A tab of `user` logged in on the site: their session cookie, as after a real login."""
        from channels.db import database_sync_to_async

        cookie = await database_sync_to_async(session_cookie)(user)
        return await cls.open(headers=[session_cookie_header(cookie)])

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

    async def say(self, text: str, client_id: str | None = None, **extra: Any) -> str:
        client_id = client_id or new_client_id()
        await self.send({"type": "message", "client_id": client_id, "message": text, **extra})
        return client_id


# --- Support: operators, staff and the operator socket ---------------------------


def make_operator(
    username: str | None = None, *, name: str = "Алия", max_chats: int | None = None
) -> Any:
    """A support operator built the way `create_operator` builds one."""
    from support.operators import make_operator as create_operator

    # No password: hashing one costs a second; tests log in with session cookies.
    user = make_site_user(username or f"operator-{uuid.uuid4().hex[:8]}")
    return create_operator(
        username=user.get_username(), display_name=name, max_chats=max_chats
    ).user


def make_staff(username: str | None = None) -> Any:
    """Staff without the support permission (an editor, say)."""
    from django.contrib.auth import get_user_model

    username = username or f"staff-{uuid.uuid4().hex[:8]}"
    return get_user_model().objects.create_user(username, is_staff=True)


def make_site_user(username: str | None = None, **fields: Any) -> Any:
    from django.contrib.auth import get_user_model

    username = username or f"user-{uuid.uuid4().hex[:8]}"
    return get_user_model().objects.create_user(username, **fields)


def session_cookie_header(cookie: str) -> tuple[bytes, bytes]:
    from django.conf import settings

    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())


def session_cookie(user: Any) -> str:
    """The value of a Django session cookie of `user`, as after a real login."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


class OperatorSocket(PersonaSocket):
    """An operator's dashboard tab speaking the operator socket to the real ASGI app."""

    side: Side = "operator"

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        super().__init__(communicator)
        self.state: dict[str, Any] = {}
        self.queue: dict[str, Any] = {}
        self.closed = False

    @classmethod
    async def open(cls, *, cookie: str | None = None, origin: bytes = b"http://testserver") -> Self:
        headers = [(b"origin", origin)]
        if cookie:
            headers.append(session_cookie_header(cookie))
        return await cls.handshake(
            "/ws/support/", headers, refused="operator socket refused at the handshake"
        )

    @classmethod
    async def connect_as(cls, user: Any) -> Self:
        """Logged in as `user`; returns after `operator_state` and the first `queue`."""
        from channels.db import database_sync_to_async

        cookie = await database_sync_to_async(session_cookie)(user)
        socket = await cls.open(cookie=cookie)
        socket.state = await socket.expect("operator_state")
        socket.queue = await socket.expect("queue")
        return socket

    @property
    def user_id(self) -> int:
        return int(self.state["operator"]["id"])

    async def join(self, session_id: str) -> None:
        await self.send({"type": "join_support_chat", "session_id": session_id})

    async def say(self, session_id: str, text: str, client_id: str | None = None) -> str:
        client_id = client_id or new_client_id()
        await self.send(
            {"type": "message", "session_id": session_id, "client_id": client_id, "message": text}
        )
        return client_id

    async def close(self) -> None:
        # Idempotent: a test that saw the server close it marks it closed; teardown closes all.
        if not self.closed:
            self.closed = True
            # After a receive timed out the test communicator has cancelled the app.
            with contextlib.suppress(asyncio.CancelledError):
                await super().close()
