"""The operator socket `/ws/support/` (see docs/protocol.md, docs/support.md).

A shell around `support.flows` and `support.actions`: authorise, parse,
delegate to a `do_*`, send what it returns. What is the transport's stays
here: the socket's groups, the chats it has opened, closing it. It
joins three kinds of groups: every operator (`support.operators`), this
operator's own (`support.operator.<id>`, through which the chats they hold
are opened and released, in every tab), and the chat group of each chat it
holds (visitor messages and typing).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.utils.translation import gettext as _

from chat.booking import BOOKING_FRAMES
from chat.errors import ClientError
from chat.events import message_ack_frame, session_group
from chat.transport import (
    CLOSE_TRY_AGAIN_LATER,
    DEPENDENCY_ERRORS,
    FrameConsumer,
    unavailable_error,
)
from chat.typing_gate import TypingGate
from support import actions, flows, frames_in, presence
from support.access import Grant, operator_access, session_operator_access_async
from support.events import (
    ASSIGNED,
    OPERATORS_GROUP,
    RELEASED,
    chat_transferred_frame,
    operator_chat_closed_frame,
    operator_group,
)
from support.names import display_name
from support.revocation import ACCESS_CHANGED
from tatartours.db_health import run_db

logger = logging.getLogger(__name__)

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403

# Frames from the operator groups that go to the dashboard as they are.
_FOR_OPERATORS = frozenset(
    {
        "queue",
        "new_support_request",
        "support_request_taken",
        "operators",
        "new_offline_ticket",
        "offline_ticket_updated",
    }
)


class OperatorConsumer(FrameConsumer):
    # What an operator may send (support/frames_in.py); a frame of type `x` goes to `on_x`.
    frames = frames_in.OPERATOR_FRAMES

    user_id: int | None = None
    revoked = False
    # What the socket's last "ok" was decided on (support/access.py): the
    # operator's message statement re-checks it in SQL.
    _grant: Grant | None = None

    async def connect(self) -> None:
        # Accept first: closing before accept() would make daphne answer HTTP
        # 403, and the dashboard could not tell "log in" from "not allowed".
        await self.accept()
        try:
            await self._start()
        except DEPENDENCY_ERRORS as error:
            # PostgreSQL or Redis is down: the contract's `unavailable` and 1013,
            # so the dashboard reconnects, instead of a crash (1011).
            logger.warning("operator socket could not start (%r); closing with 1013", error)
            await self.send_frame(unavailable_error().as_frame())
            await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def _start(self) -> None:
        user = self.scope.get("user")
        access = await run_db(lambda: operator_access(user))
        if access != "ok":
            await self.close(code=CLOSE_NOT_LOGGED_IN if access == "login" else CLOSE_FORBIDDEN)
            return
        assert user is not None
        self.user_id = int(user.pk)
        self.seen = presence.OperatorSocket(self.user_id, self.channel_name)
        self.held: dict[str, int] = {}  # session id -> last message id already sent
        self._typing_gates: dict[str, TypingGate] = {}  # session id -> its gate
        self.name = await run_db(lambda: display_name(user))
        await self.channel_layer.group_add(OPERATORS_GROUP, self.channel_name)
        await self.channel_layer.group_add(operator_group(self.user_id), self.channel_name)
        arrival = await flows.do_operator_arrived(self.seen, name=self.name)
        for frame in arrival.frames:
            await self.send_frame(frame)
        for session_id in arrival.held:
            await self._open_chat(session_id)
        await flows.do_presence_changed()

    async def disconnect(self, code: int) -> None:
        if self.user_id is None:
            return
        await flows.do_operator_left(self.seen)
        groups = [OPERATORS_GROUP, operator_group(self.user_id)]
        groups += [session_group(sid) for sid in self.held]
        for group in groups:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)

    # --- handlers ------------------------------------------------------------------------

    async def on_get_queue(self, data: frames_in.GetQueue) -> None:
        if not await self._still_allowed():
            return
        await self.send_frame(await flows.do_get_queue(self.seen, offset=data.offset or 0))

    async def on_join_support_chat(self, data: frames_in.JoinSupportChat) -> None:
        if not await self._still_allowed():
            return
        claim = await flows.do_join_support_chat(
            operator_id=self._operator_id(), session_id=data.session_id, seen=self.seen
        )
        # The winner opens the chat at once; the layer's `assigned` (for this
        # operator's other tabs) may be lost in a Redis hiccup, and the
        # dashboard clicks once.
        await self._open_chat(claim.session_id)

    async def on_message(self, data: frames_in.Message) -> None:
        if self.revoked:
            return
        session_id, client_id, text = data.session_id, data.client_id, data.message
        # Its `operator_message` is for the visitor and other tabs; this one gets the ack.
        # The access re-check is part of the message's own statement.
        try:
            posted = await actions.do_post_operator_message(
                operator_id=self._operator_id(),
                session_id=session_id,
                client_id=client_id,
                text=text,
                session_key=self.scope.get("session_key"),
                grant=self._grant,
                origin=self.channel_name,
                seen=self.seen,
            )
        except actions.AccessLost as lost:
            await self._revoke(CLOSE_NOT_LOGGED_IN if lost.access == "login" else CLOSE_FORBIDDEN)
            return
        self._grant = posted.grant
        await self.send_frame(message_ack_frame(posted.message, session_id=posted.session_id))

    async def on_typing(self, data: frames_in.Typing) -> None:
        session_id, typing = data.session_id, data.typing
        if self.revoked:
            return
        if session_id not in self.held:
            raise ClientError("forbidden", _("You do not hold this chat."), session_id=session_id)
        gate = self._typing_gates.get(session_id)
        if gate is None:
            gate = self._typing_gates[session_id] = TypingGate()
        await flows.do_operator_typing(session_id=session_id, typing=typing, gate=gate)

    async def on_close_chat(self, data: frames_in.CloseChat) -> None:
        if not await self._still_allowed():
            return
        await flows.do_close_chat(operator_id=self._operator_id(), session_id=data.session_id)

    async def on_transfer_chat(self, data: frames_in.TransferChat) -> None:
        if not await self._still_allowed():
            return
        await flows.do_transfer_chat(
            operator_id=self._operator_id(),
            session_id=data.session_id,
            to_operator_id=data.operator_id,
        )

    async def on_heartbeat(self, data: frames_in.Heartbeat) -> None:
        if not await self._still_allowed():
            return
        await flows.do_heartbeat(self.seen)

    async def on_set_status(self, data: frames_in.SetStatus) -> None:
        if not await self._still_allowed():
            return
        await flows.do_set_status(self.seen, status=data.status)

    async def on_get_operators(self, data: frames_in.GetOperators) -> None:
        if not await self._still_allowed():
            return
        await self.send_frame(await actions.operators_frame_now())

    async def on_set_ticket_status(self, data: frames_in.SetTicketStatus) -> None:
        if not await self._still_allowed():
            return
        await flows.do_set_ticket_status(
            ticket_id=data.ticket_id, status=data.status, operator_id=self._operator_id()
        )

    # --- group events ----------------------------------------------------------------------

    async def should_forward(self, frame: dict[str, Any]) -> bool:
        frame_type = frame.get("type")
        if self.revoked:
            return False
        if frame_type == ACCESS_CHANGED:
            logged_out = frame.get("logged_out")
            if logged_out is not None and logged_out == self.scope.get("session_key"):
                await self._revoke(CLOSE_NOT_LOGGED_IN)
            else:
                await self._still_allowed()
            return False
        session_id = frame.get("session_id")
        if frame_type == ASSIGNED:
            if session_id not in self.held:  # Not already opened by this socket's own claim.
                await self._open_chat(str(session_id), frame.get("transferred_from"))
            return False
        if frame_type == RELEASED:
            await self._release_chat(frame)
            return False
        if frame_type in _FOR_OPERATORS or frame_type == "operator_status":
            return True
        if session_id not in self.held:
            return False
        if frame_type == "visitor_message":
            # Already in the transcript this socket sent when it opened the chat.
            return int(frame.get("id", 0)) > self.held[str(session_id)]
        # visitor_typing, and operator_message from this operator's other tab
        # (the sending socket is the event's origin and never gets it: it got
        # a message_ack). The rest is the visitor's side of the chat group:
        # AI chunks and answers, support_pending/support_joined/chat_closed,
        # our own typing.
        # Bookings proposed and made in the chat (chat/booking.py) show in its side panel.
        return frame_type in ("visitor_typing", "operator_message", *BOOKING_FRAMES)

    # --- helpers ------------------------------------------------------------------------------

    async def _still_allowed(self) -> bool:
        """Re-read this socket's access (session, user, permission); close it if it is gone.

        Before every privileged action and when a signal says access may have
        changed: a logged-out, deactivated or demoted operator's open socket
        must not keep receiving requests or acting on chats.
        """
        if self.revoked:
            return False
        session_key, operator_id = self.scope.get("session_key"), self._operator_id()
        access, self._grant = await session_operator_access_async(session_key, operator_id)
        if access == "ok":
            return True
        await self._revoke(CLOSE_NOT_LOGGED_IN if access == "login" else CLOSE_FORBIDDEN)
        return False

    async def _revoke(self, code: int) -> None:
        """Stop everything this socket receives, then close it with `code`."""
        self.revoked = True
        logger.info("operator %s lost access; closing its socket (%d)", self.user_id, code)
        await self.close(code=code)

    def _operator_id(self) -> int:
        assert self.user_id is not None
        return self.user_id

    async def _open_chat(self, session_id: str, transferred_from: Any = None) -> None:
        """Join the chat's group, then send its transcript (messages after it come live)."""
        group = session_group(session_id)
        await self.channel_layer.group_add(group, self.channel_name)
        frame = await flows.do_open_chat(
            operator_id=self._operator_id(),
            session_id=session_id,
            transferred_from=transferred_from if isinstance(transferred_from, str) else None,
        )
        if frame is None:
            # Released again before we got here.
            if session_id not in self.held:
                await self.channel_layer.group_discard(group, self.channel_name)
            return
        messages = frame["messages"]
        self.held[session_id] = max((m["id"] for m in messages), default=0)
        await self.send_frame(frame)

    async def _release_chat(self, event: dict[str, Any]) -> None:
        session_id = str(event["session_id"])
        if self.held.pop(session_id, None) is None:
            return
        self._typing_gates.pop(session_id, None)
        await self.channel_layer.group_discard(session_group(session_id), self.channel_name)
        if event.get("reason") == "transferred":
            await self.send_frame(chat_transferred_frame(session_id, event.get("to")))
        else:
            await self.send_frame(
                operator_chat_closed_frame(session_id, str(event["by"]), str(event["reason"]))
            )
