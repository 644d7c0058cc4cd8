"""What the server sends to an operator socket (`/ws/support/`): one Struct per frame.

As chat/frames_out.py for visitors: the frames are built as dicts
(support/events.py, support/context.py, chat/booking.py) and these Structs are
their definition, `OPERATOR_OUT.check(frame)` the test clients' check.
"""

from __future__ import annotations

from typing import Literal

from chat.frames_out import (
    AiSource,
    Booking,
    BookingCreated,
    BookingProposal,
    BookingUpdated,
    ClosedBy,
    ErrorCode,
    FrameCheck,
    MessageData,
    Name,
    Out,
    Strict,
)

OperatorStatus = Literal["online", "away"]


class OperatorRef(Strict):
    id: int
    name: str


class TourRef(Strict):
    slug: str
    title: str


class Request(Strict):
    """The contract's Request, plus its extensions."""

    session_id: str
    waiting_since: str
    preview: str
    position: int
    requested_at: str
    reason: str
    requeued: bool
    tour: TourRef | None = None
    user: Name | None = None


class Assignment(Strict):
    session_id: str
    operator: OperatorRef
    assigned_at: str | None
    tour: TourRef | None = None


class ProposalRef(Strict):
    """On an AI message of the transcript: the card it proposed, and its booking."""

    proposal_id: str
    tour: TourRef
    participants: int
    booking: str | None


class TranscriptMessage(MessageData):
    source: AiSource | None = None  # AI messages: how the answer was made
    booking_proposal: ProposalRef | None = None


class UserInfo(Strict):
    id: int
    username: str
    name: str
    email: str


class UserBooking(Strict):
    reference: str
    tour: str
    tour_slug: str
    start_date: str
    start_date_label: str
    participants: int
    status: str
    status_label: str
    created_at: str


class VisitorInfo(Strict):
    user: UserInfo | None
    bookings: list[UserBooking]
    ip: str | None
    user_agent: str
    since: str
    previous_requests: int
    chat_bookings: list[Booking]


class TourInfo(Strict):
    slug: str
    title: str
    place: str
    price_per_person: str
    start_date: str
    end_date: str
    dates_label: str
    price_label: str
    duration_hours: int
    free_places: int
    published: bool
    url: str


class RequestInfo(Strict):
    reason: str
    requested_at: str | None
    assigned_at: str | None
    first_reply_at: str | None
    requeue_count: int


class Ticket(Strict):
    id: int
    name: str
    phone: str
    email: str
    question: str
    status: Literal["new", "in_progress", "done"]
    status_label: str
    created_at: str
    session_id: str | None
    handled_by: str | None


class OperatorEntry(Strict):
    id: int
    name: str
    status: OperatorStatus
    chats: int
    capacity: int


# --- the contract (docs/protocol.md, part 1) ------------------------------------------


class Queue(Out, tag="queue"):
    requests: list[Request]
    assigned: list[Assignment]
    operators_available: int
    offset: int
    total: int
    has_more: bool
    assigned_total: int


class NewSupportRequest(Out, tag="new_support_request"):
    session_id: str
    waiting_since: str
    preview: str
    position: int
    requested_at: str
    reason: str
    requeued: bool
    tour: TourRef | None = None
    user: Name | None = None


class SupportRequestTaken(Out, tag="support_request_taken"):
    session_id: str
    operator: OperatorRef | None
    reason: Literal["taken", "abandoned", "cancelled"]


class SupportChatJoined(Out, tag="support_chat_joined"):
    session_id: str
    messages: list[TranscriptMessage]
    messages_omitted: int
    visitor: VisitorInfo
    tour: TourInfo | None
    request: RequestInfo
    transferred_from: str | None


class VisitorMessage(Out, tag="visitor_message"):
    session_id: str
    id: int
    message: str
    timestamp: str
    client_id: str


class VisitorTyping(Out, tag="visitor_typing"):
    session_id: str
    typing: bool


class MessageAck(Out, tag="message_ack"):
    client_id: str
    id: int
    timestamp: str
    session_id: str


class ChatClosed(Out, tag="chat_closed"):
    session_id: str
    by: ClosedBy
    reason: Literal["closed", "requeued"]


class Error(Out, tag="error"):
    code: ErrorCode
    message: str
    client_id: str = ""
    session_id: str = ""
    reason: Literal["capacity", ""] = ""


# --- extensions (docs/protocol.md, part 2) --------------------------------------------


class OperatorState(Out, tag="operator_state"):
    operator: OperatorRef
    status: OperatorStatus
    heartbeat_seconds: int


class OperatorStatusFrame(Out, tag="operator_status"):
    status: OperatorStatus


class ChatTransferred(Out, tag="chat_transferred"):
    session_id: str
    operator: OperatorRef | None


class Operators(Out, tag="operators"):
    operators: list[OperatorEntry]


class NewOfflineTicket(Out, tag="new_offline_ticket"):
    ticket: Ticket


class OfflineTicketUpdated(Out, tag="offline_ticket_updated"):
    ticket: Ticket


class OperatorMessage(Out, tag="operator_message"):
    """Another tab of this operator wrote in a chat they hold."""

    id: int
    message: str
    timestamp: str
    operator: Name
    session_id: str
    client_id: str | None


OPERATOR_OUT = FrameCheck(
    "operator",
    Queue,
    NewSupportRequest,
    SupportRequestTaken,
    SupportChatJoined,
    VisitorMessage,
    VisitorTyping,
    MessageAck,
    ChatClosed,
    Error,
    OperatorState,
    OperatorStatusFrame,
    ChatTransferred,
    Operators,
    NewOfflineTicket,
    OfflineTicketUpdated,
    OperatorMessage,
    # Bookings proposed and made in a held chat show in its side panel.
    BookingProposal,
    BookingCreated,
    BookingUpdated,
)
