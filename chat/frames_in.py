"""What a visitor socket (`/ws/chat/`) may send: one Struct per frame of docs/protocol.md.

Each is tagged by its `type`; `VISITOR_FRAMES.decode(text)` parses and checks a
frame in one call (chat/wire.py) and the visitor consumer's handler for it is
`on_<type>`. Field order is the order fields are checked in, so the first
wrong field is the one an `invalid` error names. Unknown fields are ignored
(clients may send more than we read).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from chat.wire import (
    MAX_INT,
    Check,
    ClientIdCheck,
    FrameDecoder,
    MessageTextCheck,
    Raw,
    SlugCheck,
    UuidCheck,
)

# --- field types shared with support/frames_in.py -------------------------------------
# A string of at most N characters, no NUL, no lone surrogates (N per field below).
Token = Annotated[Annotated[str, msgspec.Meta(max_length=200)] | None, Check()]
Reason = Annotated[Annotated[str, msgspec.Meta(max_length=500)] | None, Check()]
Comment = Annotated[Annotated[str, msgspec.Meta(max_length=2000)] | None, Check()]
Contact = Annotated[Annotated[str, msgspec.Meta(max_length=254)] | None, Check()]
# Ids and counters are PostgreSQL bigints: never past MAX_INT.
After = Annotated[Annotated[int, msgspec.Meta(ge=0, le=MAX_INT)] | None, Check()]
Positive = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT), Check()]
OptionalPositive = Annotated[Annotated[int, msgspec.Meta(ge=1, le=MAX_INT)] | None, Check()]
Flag = Annotated[bool, Check()]
ClientId = Annotated[str, ClientIdCheck()]  # a UUID, lower-cased
MessageText = Annotated[str, MessageTextCheck()]  # trimmed; errors echo the client_id
Uuid = Annotated[str, UuidCheck()]  # canonical form
TourSlug = Annotated[str | None, SlugCheck()]
RequiredTourSlug = Annotated[str, SlugCheck(required=True)]
Unchecked = Annotated[Any, Raw()]


class Frame(msgspec.Struct, tag_field="type"):
    """A frame from a client; `type` is its tag (docs/protocol.md)."""


class Register(Frame, tag="register"):
    token: Token = None
    tour: TourSlug = None
    after: After = None


class Message(Frame, tag="message"):
    client_id: ClientId
    message: MessageText
    tour: TourSlug = None


class Typing(Frame, tag="typing"):
    typing: Flag


class RequestSupport(Frame, tag="request_support"):
    reason: Reason = None


class Rate(Frame, tag="rate"):
    # 1..5: the upper bound is the action's (chat.actions.rate_conversation), with its message.
    score: Positive
    comment: Comment = None


# --- extensions (docs/protocol.md, part 2) --------------------------------------------


class OfflineTicket(Frame, tag="offline_ticket"):
    """Checked by support.tickets.clean_ticket, shared with the HTTP form (field errors)."""

    name: Unchecked = None
    phone: Unchecked = None
    email: Unchecked = None
    question: Unchecked = None

    def fields(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__struct_fields__}


class EndSupport(Frame, tag="end_support"):
    pass


class BookingRequest(Frame, tag="booking_request"):
    tour: RequiredTourSlug
    participants: OptionalPositive = None  # 1 when absent


class ConfirmBooking(Frame, tag="confirm_booking", kw_only=True):
    name: Contact = None
    phone: Contact = None
    email: Contact = None
    proposal_id: Uuid
    idempotency_key: Uuid
    participants: OptionalPositive = None


class BookingCards(Frame, tag="booking_cards"):
    pass


VISITOR_FRAMES = FrameDecoder(
    Register,
    Message,
    Typing,
    RequestSupport,
    Rate,
    OfflineTicket,
    EndSupport,
    BookingRequest,
    ConfirmBooking,
    BookingCards,
)
