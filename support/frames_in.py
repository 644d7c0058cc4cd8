"""What an operator socket (`/ws/support/`) may send: one Struct per frame of docs/protocol.md.

As chat/frames_in.py for visitors: `OPERATOR_FRAMES.decode(text)` parses and
checks a frame in one call, and the operator consumer's handler is `on_<type>`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from django.utils.translation import gettext as _

from chat.errors import ClientError
from chat.frames_in import After, ClientId, Flag, Frame, MessageText, Positive, Uuid
from chat.wire import Check, FrameDecoder


class StatusCheck(Check):
    def run(self, field: str, value: object, fields: dict[str, object]) -> object:
        super().run(field, value, fields)
        if value not in {"online", "away"}:
            raise ClientError("invalid", _("The status must be “online” or “away”."))
        return value


OperatorStatus = Annotated[str, msgspec.Meta(max_length=10), StatusCheck()]
# new / in_progress / done: which ones is the action's (support.actions.set_ticket_status).
TicketStatus = Annotated[str, msgspec.Meta(max_length=20), Check()]


class JoinSupportChat(Frame, tag="join_support_chat"):
    session_id: Uuid


class Message(Frame, tag="message"):
    session_id: Uuid
    client_id: ClientId
    message: MessageText


class Typing(Frame, tag="typing"):
    session_id: Uuid
    typing: Flag


class CloseChat(Frame, tag="close_chat"):
    session_id: Uuid


class GetQueue(Frame, tag="get_queue"):
    offset: After = None  # a page of the queue (extension)


# --- extensions (docs/protocol.md, part 2) --------------------------------------------


class Heartbeat(Frame, tag="heartbeat"):
    pass


class SetStatus(Frame, tag="set_status"):
    status: OperatorStatus


class TransferChat(Frame, tag="transfer_chat"):
    session_id: Uuid
    operator_id: Positive


class GetOperators(Frame, tag="get_operators"):
    pass


class SetTicketStatus(Frame, tag="set_ticket_status"):
    ticket_id: Positive
    status: TicketStatus


OPERATOR_FRAMES = FrameDecoder(
    JoinSupportChat,
    Message,
    Typing,
    CloseChat,
    GetQueue,
    Heartbeat,
    SetStatus,
    TransferChat,
    GetOperators,
    SetTicketStatus,
)
