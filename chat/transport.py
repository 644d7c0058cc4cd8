"""The WebSocket shell shared by the visitor and operator sockets.

It turns frames into handler calls and every failure into the contract's
`error` frame; it holds no business rule, and it is instrumented only
through `chat.hooks.Instrumentation` (analytics installs it). `frames` decodes and checks
what the socket accepts (chat/frames_in.py, support/frames_in.py); the handler of a frame
of type `x` is the method `on_x`, called with the typed frame.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import msgspec
from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import aclose_old_connections
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from chat.errors import ClientError
from chat.hooks import instrumentation
from chat.wire import FrameDecoder

logger = logging.getLogger(__name__)

# Close codes of RFC 6455 the contract names.
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_TRY_AGAIN_LATER = 1013
# Seconds a socket's cleanup may take after it closed; daphne kills the
# application 10 s after the client left.
CLEANUP_SECONDS = 3.0

# Frames are dicts (they travel over the channel layer as they are): msgspec encodes one
# in 1.1-2.1 µs against 5.1-9.4 µs for json.dumps (bench/frame_codec.py), the same JSON
# but for the spaces json.dumps puts after `,` and `:`. Non-ASCII stays UTF-8.
_encode = msgspec.json.Encoder().encode

Handler = Callable[[Any], Awaitable[None]]

# A dependency (PostgreSQL, its pool, Redis) is down: `unavailable`, nothing stored.
DEPENDENCY_ERRORS = (OperationalError, InterfaceError, RedisError, OSError)


def unavailable_error(client_id: str | None = None) -> ClientError:
    return ClientError(
        "unavailable",
        _("The service is temporarily unavailable. Nothing was lost; please try again."),
        client_id=client_id,
    )


# What `send` raises once the client's socket is gone: Disconnected under
# daphne (autobahn), RuntimeError or OSError under other ASGI servers.
SOCKET_GONE_ERRORS: tuple[type[BaseException], ...] = (Disconnected, RuntimeError, OSError)


class FrameConsumer(AsyncWebsocketConsumer):
    frames: ClassVar[FrameDecoder]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # The open-socket gauge covers the consumer's whole life, however it ends.
        with instrumentation().socket_open(type(self).__name__):
            await super().__call__(scope, receive, send)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its `aclose_old_connections` before every event.

        Channels hops to the one sync thread before each handler (every frame
        received and every group event) to close stale Django connections:
        in the relay profile that hop was 12.7% of the samples, and each
        frame queued behind the DB work on that thread. Here it is not
        needed: the sync DB work runs through `database_sync_to_async`
        (tatartours/db_health.run_db), which closes old connections before
        and after every call itself, and the message path uses its own pool
        on the loop (tatartours/async_db.py). The socket's end still closes
        them (`websocket_disconnect`).
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- the channel layer going away (Redis down or restarted) ----------------
    # The project's layers (tatartours/pubsub_layer.py, the default, and
    # tatartours/channel_layer.py) turn the loss of Redis under a consumer
    # into one `layer.lost` event instead of an error that would kill it in
    # Channels' dispatch loop ("Exception inside application", close 1011):
    # the socket is told `unavailable` and closed with 1013, and the client
    # reconnects and resyncs by message id (its groups died with Redis).

    async def layer_lost(self, message: dict[str, Any]) -> None:
        if self._closed:
            return  # Already told why and closing, or the client left: nobody to tell.
        await self.send_frame(unavailable_error().as_frame())
        await self.close(code=CLOSE_TRY_AGAIN_LATER)

    # --- closing ----------------------------------------------------------------------
    # Under reconnect storms, frames were sent on sockets already closed
    # ("Attempt to send on a closed protocol") and cleanups that waited on
    # a dead Redis outlived daphne's shutdown timeout ("took too long to
    # shut down and was killed"). Nothing is sent once closing; the cleanup
    # is bounded (what it leaves, presence and groups, expires by itself).

    _closed = False

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        await super().close(code=code, reason=reason)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        self._closed = True
        try:
            async with asyncio.timeout(CLEANUP_SECONDS):
                await self.disconnect(message.get("code", 1000))
        except TimeoutError:
            logger.warning(
                "%s cleanup took over %s s; left to expire", type(self).__name__, CLEANUP_SECONDS
            )
        await aclose_old_connections()
        raise StopConsumer()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        # daphne already refuses frames over the limit (--websocket-max-message-size);
        # this guards other servers (uvicorn) and tests.
        limit = settings.CHAT_MAX_FRAME_BYTES
        if len(text_data) * 4 > limit and len(text_data.encode("utf-8", "surrogatepass")) > limit:
            await self.close(code=CLOSE_MESSAGE_TOO_BIG)
            return
        client_id: str | None = None
        try:
            frame = self.frames.decode(text_data)
            # Only a validated client_id goes back in an error: anything else a
            # client wrote (a lone surrogate, say) could not even be encoded.
            client_id = getattr(frame, "client_id", None)
            handler: Handler = getattr(self, "on_" + self.frames.tag(frame))
            await handler(frame)
        except ClientError as error:
            await self.send_frame(error.as_frame())
        except DEPENDENCY_ERRORS as error:
            logger.warning("dependency unavailable in %s: %r", type(self).__name__, error)
            await self.send_frame(unavailable_error(client_id).as_frame())
        except Exception:
            logger.exception("internal error in %s", type(self).__name__)
            internal = ClientError(
                "internal",
                _("Something went wrong on our side. Please try again."),
                client_id=client_id,
            )
            await self.send_frame(internal.as_frame())

    async def send_frame(self, frame: dict[str, Any]) -> None:
        if self._closed:
            return
        if frame.get("type") == "error":
            # Instrumentation (analytics installs it: a Prometheus count by code
            # and the daily refusal figures); never raises, never waits on the DB.
            instrumentation().error_frame_sent(str(frame.get("code", "")))
        text = _encode(frame).decode()
        try:
            await self.send(text_data=text)
        except SOCKET_GONE_ERRORS as error:
            # The server closed the socket (a frame over the limit, the client
            # gone, a reconnect storm) and its disconnect is not processed yet.
            # What was stored stays stored: the client resyncs by id.
            logger.info("%s frame to a closed socket dropped (%r)", frame.get("type"), error)
            self._closed = True

    async def chat_event(self, event: dict[str, Any]) -> None:
        """A frame published to one of this socket's groups."""
        if event.get("origin") == self.channel_name:
            return  # This socket was sent the frame directly.
        for frame in [event["frame"], *event.get("more", [])]:
            if await self.should_forward(frame):
                await self.send_frame(frame)

    async def should_forward(self, frame: dict[str, Any]) -> bool:
        """Subclasses filter frames meant for the other side, and react to events."""
        return True
