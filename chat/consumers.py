"""The visitor socket `/ws/chat/` (see docs/protocol.md).

A shell: parse, validate, delegate to `chat.actions` / the support line (`chat.hooks`),
send the result. The AI answer runs as this consumer's own task so the
socket keeps receiving (typing, takeover, disconnect) while it is generated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, ClassVar

from autobahn.exception import Disconnected
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from ai.types import AIRequest
from chat import actions, booking, guards
from chat.ai_reply import answer_pending
from chat.budget import fit_first, fit_last
from chat.errors import ClientError
from chat.events import message_ack_frame, registered_frame, session_group
from chat.hooks import support_line
from chat.publish import run_action, run_action_from, send_events
from chat.transport import (
    CLOSE_TRY_AGAIN_LATER,
    DEPENDENCY_ERRORS,
    FrameConsumer,
    unavailable_error,
)
from chat.typing_gate import TypingGate
from chat.wire import (
    optional_int,
    optional_slug,
    optional_str,
    require_bool,
    require_client_id,
    require_int,
    require_message_text,
    require_slug,
    require_uuid,
)

logger = logging.getLogger(__name__)

# What sending on a socket the client already closed raises: autobahn's
# Disconnected under daphne, RuntimeError/OSError under other ASGI servers.
SOCKET_GONE_ERRORS: tuple[type[BaseException], ...] = (Disconnected, RuntimeError, OSError)

# Frames the visitor's own sockets must not receive from the chat group.
_OPERATOR_SIDE_ONLY = frozenset({"visitor_typing", "support_chat_joined"})
# Frames that carry a stored message (and its id).
_MESSAGE_FRAMES = frozenset({"visitor_message", "operator_message", "ai_response"})
# Events after which an AI answer being generated must be dropped.
_AI_STOPPERS = frozenset({"support_pending", "support_joined"})
# Seconds between attempts to answer while the database or Redis is down.
_AI_OUTAGE_BACKOFF = (1.0, 2.0, 4.0, 8.0)


def header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class VisitorConsumer(FrameConsumer):
    handlers: ClassVar[dict[str, str]] = {
        "register": "on_register",
        "message": "on_message",
        "typing": "on_typing",
        "request_support": "on_request_support",
        "rate": "on_rate",
        # Extensions (docs/protocol.md, part 2, docs/support.md)
        "offline_ticket": "on_offline_ticket",
        "end_support": "on_end_support",
        "booking_request": "on_booking_request",
        "confirm_booking": "on_confirm_booking",
        "booking_cards": "on_booking_cards",
    }

    session_pk: int | None = None
    session_public_id: str | None = None
    client_ip: str | None = None
    group: str | None = None
    _typing_gate: TypingGate | None = None  # made on the first `typing`

    async def connect(self) -> None:
        self._ai_task: asyncio.Task[None] | None = None
        self._ai_again = False
        self._registrations = 0
        self._replayed: set[int] = set()  # message ids `registered` carried
        self.client_ip = guards.client_ip(self.scope)
        refusal: ClientError | None = None
        try:
            await guards.check_connection(self.client_ip)
        except guards.Throttled as error:
            refusal = error
        except RedisError as error:
            # Redis is down: registering will say `unavailable`; no need to refuse here.
            logger.warning("connection throttle unavailable (%r)", error)
        # Accept first, so the client reads why (4429) instead of a bare HTTP 403.
        await self.accept()
        if refusal is not None:
            await self.send_frame(refusal.as_frame())
            await self.close(code=guards.CLOSE_RATE_LIMITED)

    async def disconnect(self, code: int) -> None:
        await self._release_session()

    async def _release_session(self) -> None:
        """Let go of this socket's session: on close, and before registering another.

        The AI answer for it stops, the support queue learns the visitor left
        (a waiting chat with no socket is abandoned), and the group is left.
        Never raises.
        """
        if self._ai_task is not None:
            self._ai_task.cancel()
            self._ai_task = None
        if self.session_pk is not None:
            await support_line().visitor_left(
                session_pk=self.session_pk, socket_id=self.channel_name
            )
        if self.group:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.group, self.channel_name)
        self.session_pk = self.session_public_id = self.group = None
        self._typing_gate = None

    # --- handlers -------------------------------------------------------------

    async def on_register(self, data: dict[str, Any]) -> None:
        try:
            await self._register(data)
        except DEPENDENCY_ERRORS as error:
            # Unregistered, the socket is of no use: the client reconnects and registers again.
            logger.warning("registration failed (%r); closing visitor socket", error)
            await self.send_frame(unavailable_error().as_frame())
            await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def _register(self, data: dict[str, Any]) -> None:
        token = optional_str(data, "token", max_length=200)
        tour = optional_slug(data, "tour")
        after = optional_int(data, "after")
        try:
            guards.check_socket_registrations(self._registrations)
            await guards.check_register(token, self.client_ip)
        except guards.Throttled as error:
            await self.send_frame(error.as_frame())
            await self.close(code=guards.CLOSE_RATE_LIMITED)
            return
        self._registrations += 1
        user = self.scope.get("user")
        user_id = user.pk if user is not None and user.is_authenticated else None
        registration = await run_action(
            actions.register_visitor,
            token=token,
            tour_slug=tour,
            user_id=user_id,
            client_ip=self.client_ip,
            user_agent=header(self.scope, b"user-agent"),
        )
        session = registration.session
        if self.session_pk is not None and self.session_pk != session.pk:
            await self._release_session()
        group = session_group(session.public_id)
        try:
            # Join before reading the history: a message committed after the
            # read then arrives live, never in neither.
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception as error:
            # Without the group this socket would miss live events; make the
            # client reconnect rather than sit deaf. Its session is stored.
            logger.warning("group_add failed (%r); closing visitor socket", error)
            await self.send_frame(unavailable_error().as_frame())
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        self.group = group
        self.session_pk = session.pk
        self.session_public_id = str(session.public_id)
        if registration.resumed:
            resync = await run_action(actions.resync, session_pk=session.pk, after=after)
            status, needs_ai = resync.status, resync.needs_ai
            # One frame holds at most ~40 KiB of history (chat/budget.py): the
            # oldest after `after` (the client registers again from the last
            # one), else the newest.
            fit = fit_first if after is not None else fit_last
            messages = fit(resync.messages)
            more = len(messages) < len(resync.messages)
        else:
            status, messages, needs_ai, more = session.status, [], False, False
        # Committed between the join and the read: in `messages` and also on its
        # way live; the live copy is dropped (should_forward).
        self._replayed = {m["id"] for m in messages}
        frame = registered_frame(session, registration.token, status, messages)
        if more:
            frame["has_more"] = True  # Extension (docs/protocol.md, part 2).
        await self.send_frame(frame)
        # Waiting for or talking to an operator: say so again (position, who).
        for frame in await support_line().visitor_registered(
            session_pk=session.pk, status=status, socket_id=self.channel_name
        ):
            await self.send_frame(frame)
        if needs_ai:
            self._schedule_ai()

    async def on_message(self, data: dict[str, Any]) -> None:
        session_pk = self._require_session()
        client_id = require_client_id(data)
        text = require_message_text(data, client_id)
        tour = optional_slug(data, "tour")
        assert self.session_public_id is not None
        # Its `visitor_message` is for the other tabs and the operator; this one gets the ack.
        posted = await actions.do_post_visitor_message(
            session_pk=session_pk,
            session_public_id=self.session_public_id,
            client_ip=self.client_ip,
            client_id=client_id,
            text=text,
            tour_slug=tour,
            origin=self.channel_name,
        )
        await self.send_frame(message_ack_frame(posted.message))
        if posted.wants_person:
            # A person answers instead of the AI, if one can; with nobody
            # available the AI still answers (and the visitor gets
            # support_unavailable with the offline form).
            outcome = await support_line().request_support(session_pk=session_pk, reason=text[:500])
            if outcome != "unavailable":
                return
        if posted.needs_ai:
            self._schedule_ai(posted.ai_request)

    async def on_typing(self, data: dict[str, Any]) -> None:
        self._require_session()
        typing = require_bool(data, "typing")
        assert self.group is not None
        if self._typing_gate is None:
            self._typing_gate = TypingGate()
        if not self._typing_gate.admit(typing):
            return
        frame = {"type": "visitor_typing", "session_id": self.session_public_id, "typing": typing}
        await send_events([(self.group, frame)])

    async def on_request_support(self, data: dict[str, Any]) -> None:
        session_pk = self._require_session()
        reason = optional_str(data, "reason", max_length=500) or ""
        guards.check_text(reason)
        assert self.session_public_id is not None
        await guards.check_support_cycle("request", self.session_public_id, self.channel_name)
        await support_line().request_support(session_pk=session_pk, reason=reason)

    async def on_rate(self, data: dict[str, Any]) -> None:
        session_pk = self._require_session()
        score = require_int(data, "score", minimum=1)
        comment = optional_str(data, "comment", max_length=2000) or ""
        guards.check_text(comment)
        await run_action(
            actions.rate_conversation, session_pk=session_pk, score=score, comment=comment.strip()
        )
        await self.send_frame({"type": "rated", "score": score})

    async def on_offline_ticket(self, data: dict[str, Any]) -> None:
        await guards.check_offline_ticket(self.client_ip, self.session_public_id)
        frame = await support_line().leave_offline_ticket(session_pk=self.session_pk, data=data)
        await self.send_frame(frame)

    async def on_end_support(self, data: dict[str, Any]) -> None:
        session_pk = self._require_session()
        assert self.session_public_id is not None
        await guards.check_support_cycle("end", self.session_public_id, self.channel_name)
        await support_line().end_support(session_pk=session_pk)

    async def on_booking_request(self, data: dict[str, Any]) -> None:
        """The tour page's «Забронировать»: a confirmation card for that tour (chat/booking.py)."""
        session_pk = self._require_session()
        frame = await run_action(
            booking.request_card,
            session_pk=session_pk,
            tour_slug=require_slug(data, "tour"),
            participants=optional_int(data, "participants", minimum=1) or 1,
        )
        await self.send_frame(frame)

    async def on_confirm_booking(self, data: dict[str, Any]) -> None:
        """The card's «Подтвердить»: the only frame that creates a booking."""
        session_pk = self._require_session()
        fields = ("name", "phone", "email")
        contact = {f: optional_str(data, f, max_length=254) or "" for f in fields}
        guards.check_text(contact["name"])
        frame = await run_action_from(
            self.channel_name,
            booking.confirm_card,
            session_pk=session_pk,
            proposal_id=require_uuid(data, "proposal_id"),
            idempotency_key=require_uuid(data, "idempotency_key"),
            participants=optional_int(data, "participants", minimum=1),
            **contact,
        )
        await self.send_frame(frame)

    async def on_booking_cards(self, data: dict[str, Any]) -> None:
        """After a reload: the card the visitor had not confirmed yet, if any."""
        session_pk = self._require_session()
        await self.send_frame(await run_action(booking.open_cards, session_pk=session_pk))

    # --- group events ---------------------------------------------------------

    async def should_forward(self, frame: dict[str, Any]) -> bool:
        frame_type = frame.get("type")
        if frame_type in _OPERATOR_SIDE_ONLY:
            return False
        if frame_type in _MESSAGE_FRAMES and frame.get("id") in self._replayed:
            return False  # Already sent in `registered`.
        if frame_type in _AI_STOPPERS and self._ai_task is not None:
            self._ai_task.cancel()
        return True

    # --- helpers --------------------------------------------------------------

    def _require_session(self) -> int:
        if self.session_pk is None:
            raise ClientError("invalid", _("Send “register” first."))
        return self.session_pk

    async def _send_if_open(self, frame: dict[str, Any]) -> None:
        """Stream to the socket unless the visitor has just left.

        The answer task may send after the socket closed but before this
        consumer processed the disconnect; the answer is still stored and the
        visitor gets it from the history on reconnect.
        """
        try:
            await self.send_frame(frame)
        except SOCKET_GONE_ERRORS as error:
            logger.info("visitor socket closed mid-answer (%r); the answer is still stored", error)

    def _schedule_ai(self, request: AIRequest | None = None) -> None:
        """Answer in a task; `request`: the AI context read with the message, if any."""
        if self._ai_task is not None and not self._ai_task.done():
            self._ai_again = True  # Answered together by the next round.
            return
        self._ai_task = asyncio.create_task(self._answer_loop(request))

    async def _answer_loop(self, request: AIRequest | None) -> None:
        assert self.session_pk is not None
        outage_retries = 0
        try:
            while True:
                self._ai_again = False
                try:
                    await answer_pending(
                        self.session_pk,
                        owner=self.channel_name,
                        send=self._send_if_open,
                        request=request,
                    )
                except DEPENDENCY_ERRORS as error:
                    # The question is stored; answer it once the database or
                    # Redis is back (a reconnect also answers it: needs_ai).
                    outage_retries += 1
                    logger.warning("AI answer postponed (%r), try %d", error, outage_retries)
                    if outage_retries > len(_AI_OUTAGE_BACKOFF):
                        await self.send_frame(unavailable_error().as_frame())
                        return
                    await asyncio.sleep(_AI_OUTAGE_BACKOFF[outage_retries - 1])
                    self._ai_again = True
                request = None  # Later rounds read the chat afresh.
                if not self._ai_again:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("AI answer failed for session %s", self.session_pk)
