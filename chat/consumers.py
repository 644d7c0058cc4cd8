"""The visitor socket `/ws/chat/` (see docs/protocol.md).

A shell: parse, authorise, delegate to a `do_*` of `chat.actions`, `chat.booking`,
`chat.ai_reply` or the support line (`chat.hooks`), send what it returns. What is
the transport's stays here: this socket's groups, the ids `registered` carried,
closing. The AI answer runs as this consumer's own task (`chat.ai_reply.AnswerTask`)
so the socket keeps receiving (typing, takeover, disconnect) while it is generated.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any
from uuid import UUID

from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from chat import actions, booking, frames_in, guards
from chat.ai_reply import AnswerTask, do_route_visitor_message
from chat.errors import ClientError
from chat.events import message_ack_frame, session_group
from chat.hooks import support_line
from chat.transport import (
    CLOSE_TRY_AGAIN_LATER,
    DEPENDENCY_ERRORS,
    FrameConsumer,
    unavailable_error,
)
from chat.typing_gate import TypingGate

logger = logging.getLogger(__name__)

# Frames the visitor's own sockets must not receive from the chat group.
_OPERATOR_SIDE_ONLY = frozenset({"visitor_typing", "support_chat_joined"})
# Frames that carry a stored message (and its id).
_MESSAGE_FRAMES = frozenset({"visitor_message", "operator_message", "ai_response"})
# Events after which an AI answer being generated must be dropped.
_AI_STOPPERS = frozenset({"support_pending", "support_joined"})


def header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class VisitorConsumer(FrameConsumer):
    # What a visitor may send (chat/frames_in.py); a frame of type `x` goes to `on_x`.
    frames = frames_in.VISITOR_FRAMES

    session_pk: int | None = None
    session_public_id: str | None = None
    client_ip: str | None = None
    group: str | None = None
    _typing_gate: TypingGate | None = None  # made on the first `typing`

    async def connect(self) -> None:
        self._answers: AnswerTask | None = None  # made on registering
        self._registrations = 0
        self._replayed: set[int] = set()  # message ids `registered` carried
        self._client_has_up_to = 0  # the resumed client's `after`
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
        if self._answers is not None:
            self._answers.cancel()
            self._answers = None
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

    async def on_register(self, data: frames_in.Register) -> None:
        try:
            await self._register(data)
        except DEPENDENCY_ERRORS as error:
            # Unregistered, the socket is of no use: the client reconnects and registers again.
            logger.warning("registration failed (%r); closing visitor socket", error)
            await self.send_frame(unavailable_error().as_frame())
            await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def _register(self, data: frames_in.Register) -> None:
        user = self.scope.get("user")
        try:
            guards.check_socket_registrations(self._registrations)
            registration = await actions.do_register_visitor(
                token=data.token,
                tour_slug=data.tour,
                user_id=user.pk if user is not None and user.is_authenticated else None,
                client_ip=self.client_ip,
                user_agent=header(self.scope, b"user-agent"),
            )
        except guards.Throttled as error:
            await self.send_frame(error.as_frame())
            await self.close(code=guards.CLOSE_RATE_LIMITED)
            return
        self._registrations += 1
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
        if self._answers is None:
            self._answers = AnswerTask(session.pk, owner=self.channel_name, send=self.send_frame)
        resumed = await actions.do_resume_visitor(
            registration, after=data.after, socket_id=self.channel_name
        )
        # Committed between the join and the read: in `registered` and also on
        # its way live; the live copy is dropped (should_forward).
        self._replayed = resumed.replayed
        self._client_has_up_to = resumed.client_has_up_to
        for frame in resumed.frames:
            await self.send_frame(frame)
        if resumed.needs_ai:
            self._answers.schedule()

    async def on_message(self, data: frames_in.Message) -> None:
        session_pk = self._require_session()
        assert self.session_public_id is not None
        assert self._answers is not None
        # Its `visitor_message` is for the other tabs and the operator; this one gets the ack.
        posted = await actions.do_post_visitor_message(
            session_pk=session_pk,
            session_public_id=self.session_public_id,
            client_ip=self.client_ip,
            client_id=data.client_id,
            text=data.message,
            tour_slug=data.tour,
            origin=self.channel_name,
        )
        await self.send_frame(message_ack_frame(posted.message))
        if await do_route_visitor_message(session_pk=session_pk, posted=posted, text=data.message):
            self._answers.schedule(posted.ai_request)

    async def on_typing(self, data: frames_in.Typing) -> None:
        self._require_session()
        assert self.session_public_id is not None
        if self._typing_gate is None:
            self._typing_gate = TypingGate()
        await actions.do_visitor_typing(
            session_public_id=self.session_public_id, typing=data.typing, gate=self._typing_gate
        )

    async def on_request_support(self, data: frames_in.RequestSupport) -> None:
        session_pk = self._require_session()
        reason = data.reason or ""
        guards.check_text(reason)
        assert self.session_public_id is not None
        await guards.check_support_cycle("request", self.session_public_id, self.channel_name)
        await support_line().request_support(session_pk=session_pk, reason=reason)

    async def on_rate(self, data: frames_in.Rate) -> None:
        session_pk = self._require_session()
        frame = await actions.do_rate_conversation(
            session_pk=session_pk, score=data.score, comment=data.comment or ""
        )
        await self.send_frame(frame)

    async def on_offline_ticket(self, data: frames_in.OfflineTicket) -> None:
        await guards.check_offline_ticket(self.client_ip, self.session_public_id)
        fields = data.fields()
        frame = await support_line().leave_offline_ticket(session_pk=self.session_pk, data=fields)
        await self.send_frame(frame)

    async def on_end_support(self, data: frames_in.EndSupport) -> None:
        session_pk = self._require_session()
        assert self.session_public_id is not None
        await guards.check_support_cycle("end", self.session_public_id, self.channel_name)
        await support_line().end_support(session_pk=session_pk)

    async def on_booking_request(self, data: frames_in.BookingRequest) -> None:
        """The tour page's «Забронировать»: a confirmation card for that tour (chat/booking.py)."""
        session_pk = self._require_session()
        frame = await booking.do_request_card(
            session_pk=session_pk, tour_slug=data.tour, participants=data.participants or 1
        )
        await self.send_frame(frame)

    async def on_confirm_booking(self, data: frames_in.ConfirmBooking) -> None:
        """The card's «Подтвердить»: the only frame that creates a booking."""
        session_pk = self._require_session()
        frame = await booking.do_confirm_card(
            session_pk=session_pk,
            proposal_id=UUID(data.proposal_id),
            idempotency_key=UUID(data.idempotency_key),
            participants=data.participants,
            name=data.name or "",
            phone=data.phone or "",
            email=data.email or "",
            origin=self.channel_name,
        )
        await self.send_frame(frame)

    async def on_booking_cards(self, data: frames_in.BookingCards) -> None:
        """After a reload: the card the visitor had not confirmed yet, if any."""
        session_pk = self._require_session()
        await self.send_frame(await booking.do_open_cards(session_pk=session_pk))

    # --- group events ---------------------------------------------------------

    async def should_forward(self, frame: dict[str, Any]) -> bool:
        frame_type = frame.get("type")
        if frame_type in _OPERATOR_SIDE_ONLY:
            return False
        if frame_type in _MESSAGE_FRAMES:
            message_id = frame.get("id")
            if message_id in self._replayed:
                return False  # Already sent in `registered`.
            if isinstance(message_id, int) and message_id <= self._client_has_up_to:
                return False  # The client had it before it registered.
        if frame_type in _AI_STOPPERS and self._answers is not None:
            self._answers.cancel()
        return True

    # --- helpers --------------------------------------------------------------

    def _require_session(self) -> int:
        if self.session_pk is None:
            raise ClientError("invalid", _("Send “register” first."))
        return self.session_pk
