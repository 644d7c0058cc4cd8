"""What the server sends to a visitor socket (`/ws/chat/`): one Struct per frame.

The frames themselves are built as dicts (chat/events.py, support/events.py,
chat/booking.py): they travel over the channel layer as they are, and encoding a
dict costs 1.55 µs against 1.00 µs for a Struct (bench/frame_codec.py), not
worth a conversion at each end of the layer. These Structs are the frames'
definition: `VISITOR_OUT.check(frame)` says whether a frame is one the protocol
allows (every field known and of its type, the optional ones absent or as
documented); the test clients check every frame they receive with it
(tests/wsclient.py), and tests/test_protocol_frames.py holds them to
docs/protocol.md. An optional field with a default is absent unless documented
as `null`.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """A JSON object whose every field is named here."""


class Out(Strict, tag_field="type"):
    """A frame the server sends; `type` is its tag."""


ErrorCode = Literal[
    "invalid_json",
    "unknown_type",
    "invalid",
    "too_long",
    "rate_limited",
    "moderated",
    "not_found",
    "already_taken",
    "forbidden",
    "unavailable",
    "internal",
]
Author = Literal["visitor", "ai", "operator", "system"]
ChatStatus = Literal["ai", "pending", "operator", "closed"]
ClosedBy = Literal["operator", "visitor", "system"]
AiSource = Literal["model", "offline", "partial"]


class Name(Strict):
    name: str


class MessageData(Strict):
    """The contract's Message (in `messages` lists, and a `notice`)."""

    id: int
    author: Author
    message: str
    timestamp: str
    client_id: str = ""
    operator: Name | None = None  # an operator's message: who wrote it (extension)


class TourCard(Strict):
    slug: str
    title: str
    place: str
    start_date: str
    end_date: str
    price_per_person: str
    free_places: int
    url: str


class BookedTour(Strict):
    slug: str
    title: str
    start_date: str


class Booking(Strict):
    reference: str
    tour: BookedTour
    participants: int
    total_price: str | None
    contact_name: str
    status: Literal["pending", "confirmed", "cancelled", "expired"]
    status_label: str
    hold_expires_at: str | None
    created_at: str | None


# --- the contract (docs/protocol.md, part 1) ------------------------------------------


class Registered(Out, tag="registered"):
    session_id: str
    token: str
    status: ChatStatus
    messages: list[MessageData]
    has_more: bool = False


class MessageAck(Out, tag="message_ack"):
    client_id: str
    id: int
    timestamp: str


class AiTyping(Out, tag="ai_typing"):
    typing: bool


class AiChunk(Out, tag="ai_chunk"):
    reply_to: int
    text: str


class AiResponse(Out, tag="ai_response"):
    id: int
    message: str
    timestamp: str
    reply_to: int | None
    source: AiSource


class SupportPending(Out, tag="support_pending"):
    position: int
    message: str
    estimated_wait_seconds: int | None
    requeued: bool


class SupportUnavailable(Out, tag="support_unavailable"):
    message: str
    reason: Literal["no_operators", "outside_hours", "timeout"]
    working_hours: str
    offline_form: bool


class SupportJoined(Out, tag="support_joined"):
    operator: Name
    transferred: bool
    notice: MessageData | None = None


class VisitorMessage(Out, tag="visitor_message"):
    id: int
    message: str
    timestamp: str
    client_id: str
    session_id: str


class OperatorMessage(Out, tag="operator_message"):
    id: int
    message: str
    timestamp: str
    operator: Name
    session_id: str
    client_id: str | None


class OperatorTyping(Out, tag="operator_typing"):
    typing: bool
    session_id: str


class ChatClosed(Out, tag="chat_closed"):
    by: ClosedBy
    message: str
    ask_rating: bool
    notice: MessageData | None = None


class Error(Out, tag="error"):
    code: ErrorCode
    message: str
    client_id: str = ""
    retry_after: int = 0
    # rate_limited: which limit (docs/protocol.md, "Limits, moderation and outages")
    limit: Literal[
        "messages",
        "repeat",
        "links",
        "connections",
        "registrations",
        "tickets",
        "support",
        "bookings",
        "",
    ] = ""
    # confirm_booking refused, and the offline ticket's wrong field
    proposal_id: str = ""
    reason: Literal["invalid", "sold_out", "expired", "conflict", "not_found", ""] = ""
    field: Literal["name", "phone", "email", "question", "participants", ""] = ""
    free_places: int = 0


# --- extensions (docs/protocol.md, part 2) --------------------------------------------


class Rated(Out, tag="rated"):
    score: int


class OfflineTicketSaved(Out, tag="offline_ticket_saved"):
    id: int
    message: str


class BookingProposal(Out, tag="booking_proposal"):
    session_id: str
    proposal_id: str
    tour: TourCard
    participants: int
    max_participants: int
    total_price: str
    currency: Literal["RUB"]
    needs_contact: bool
    hold_minutes: int
    expires_at: str | None
    origin: Literal["model", "offline", "site"]


class BookingCards(Out, tag="booking_cards"):
    cards: list[BookingProposal]


class BookingCreated(Out, tag="booking_created"):
    session_id: str
    proposal_id: str
    booking: Booking
    message: str


class BookingUpdated(Out, tag="booking_updated"):
    session_id: str
    booking: Booking
    message: str


class FrameCheck:
    """The frames one side receives, by type; `check` raises ProtocolError for any other."""

    def __init__(self, side: str, *frame_types: type[Out]) -> None:
        self.side = side
        self.types: dict[str, type[Out]] = {
            str(msgspec.inspect.type_info(t).tag): t  # type: ignore[attr-defined]
            for t in frame_types
        }

    def check(self, frame: Any) -> str:
        """The frame's type if the protocol allows `frame` on this side."""
        frame_type = frame.get("type") if isinstance(frame, dict) else None
        cls = self.types.get(frame_type) if isinstance(frame_type, str) else None
        if cls is None:
            raise ProtocolError(f"{self.side} socket: no frame of type {frame_type!r}: {frame!r}")
        try:
            msgspec.convert(frame, type=cls)
        except msgspec.ValidationError as error:
            raise ProtocolError(f"{self.side} socket: {frame_type} {error}: {frame!r}") from None
        return str(frame_type)


class ProtocolError(AssertionError):
    """A frame docs/protocol.md does not allow (a test failure, not a client's error)."""


VISITOR_OUT = FrameCheck(
    "visitor",
    Registered,
    MessageAck,
    AiTyping,
    AiChunk,
    AiResponse,
    SupportPending,
    SupportUnavailable,
    SupportJoined,
    VisitorMessage,
    OperatorMessage,
    OperatorTyping,
    ChatClosed,
    Error,
    Rated,
    OfflineTicketSaved,
    BookingProposal,
    BookingCards,
    BookingCreated,
    BookingUpdated,
)
