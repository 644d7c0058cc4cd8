"""Frames of the support side of the wire contract, and the groups they go to.

Groups (Redis, through the channel layer):

- ``support.operators``: every operator socket; the queue and its changes.
- ``support.operator.<user id>``: all sockets of one operator; the chats they
  hold (internal events, see below).
- ``chat.session.<hex>`` (chat.events.session_group): the visitor's tabs and
  the sockets of the operator holding the chat.

Internal events (type with a dot, never sent to a client as they are):
``support.assigned`` tells an operator's sockets to open a chat (load its
transcript, join its group); ``support.released`` to leave it. Only ids
travel over the layer; each socket reads the transcript itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat.events import MessageData
from chat.models import ChatMessage
from tours.hours import working_hours_sentence

OPERATORS_GROUP = "support.operators"

ASSIGNED = "support.assigned"
RELEASED = "support.released"

UnavailableReason = Literal["no_operators", "outside_hours", "timeout"]
ReleaseReason = Literal["closed", "transferred", "requeued"]


def operator_group(user_id: int) -> str:
    return f"support.operator.{user_id}"


class OperatorRef(TypedDict):
    id: int
    name: str


class TourRef(TypedDict):
    slug: str
    title: str


class RequestData(TypedDict):
    """The contract's Request, plus extensions (docs/protocol.md, part 2)."""

    session_id: str
    waiting_since: str
    preview: str
    tour: NotRequired[TourRef]
    user: NotRequired[dict[str, str]]
    position: int
    requested_at: str
    reason: str
    requeued: bool


class AssignmentData(TypedDict):
    session_id: str
    operator: OperatorRef
    assigned_at: str | None
    tour: NotRequired[TourRef]


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- To operators ---------------------------------------------------------------


def queue_frame(
    requests: list[RequestData],
    assigned: list[AssignmentData],
    operators_available: int,
    *,
    offset: int = 0,
    total: int | None = None,
    assigned_total: int | None = None,
) -> dict[str, Any]:
    """One page of the queue: `requests` are positions offset+1... of `total` waiting."""
    total = len(requests) + offset if total is None else total
    return {
        "type": "queue",
        "requests": requests,
        # Extensions: who holds what, and how many operators take new chats;
        # paging (a frame stays under 64 KiB with any number of open chats).
        "assigned": assigned,
        "operators_available": operators_available,
        "offset": offset,
        "total": total,
        "has_more": offset + len(requests) < total,
        "assigned_total": len(assigned) if assigned_total is None else assigned_total,
    }


def new_support_request_frame(request: RequestData) -> dict[str, Any]:
    return {"type": "new_support_request", **request}


def support_request_taken_frame(
    session_id: str, operator: OperatorRef | None, reason: str = "taken"
) -> dict[str, Any]:
    """It left the queue: taken by `operator`, or (operator None) abandoned/cancelled."""
    return {
        "type": "support_request_taken",
        "session_id": session_id,
        "operator": operator,
        "reason": reason,
    }


def assigned_event(session_id: str, transferred_from: str | None = None) -> dict[str, Any]:
    return {"type": ASSIGNED, "session_id": session_id, "transferred_from": transferred_from}


def released_event(
    session_id: str,
    *,
    by: str,
    reason: ReleaseReason,
    to: OperatorRef | None = None,
) -> dict[str, Any]:
    return {"type": RELEASED, "session_id": session_id, "by": by, "reason": reason, "to": to}


def operator_chat_closed_frame(session_id: str, by: str, reason: str) -> dict[str, Any]:
    return {"type": "chat_closed", "session_id": session_id, "by": by, "reason": reason}


def chat_transferred_frame(session_id: str, to: OperatorRef | None) -> dict[str, Any]:
    return {"type": "chat_transferred", "session_id": session_id, "operator": to}


def operators_frame(operators: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "operators", "operators": operators}


def offline_ticket_frame(frame_type: str, ticket: dict[str, Any]) -> dict[str, Any]:
    return {"type": frame_type, "ticket": ticket}


# --- To visitors -----------------------------------------------------------------


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def support_pending_frame(
    *, position: int, estimated_wait_seconds: int | None, requeued: bool = False
) -> dict[str, Any]:
    if requeued:
        lead = _("Your operator cannot continue the conversation. You are back in the queue.")
    else:
        lead = ""
    if estimated_wait_seconds is None:
        text = _(
            "You are number %(position)d in the queue. An operator will answer "
            "as soon as one is free."
        ) % {"position": position}
    else:
        minutes = _minutes(estimated_wait_seconds)
        text = ngettext(
            "You are number %(position)d in the queue. Estimated wait: about %(minutes)d minute.",
            "You are number %(position)d in the queue. Estimated wait: about %(minutes)d minutes.",
            minutes,
        ) % {"position": position, "minutes": minutes}
    return {
        "type": "support_pending",
        "position": position,
        "message": f"{lead} {text}".strip(),
        "estimated_wait_seconds": estimated_wait_seconds,
        "requeued": requeued,
    }


def support_unavailable_frame(reason: UnavailableReason, hours: str = "") -> dict[str, Any]:
    if reason == "outside_hours":
        message = " ".join(
            [
                working_hours_sentence(),
                _(
                    "Leave your name, phone or e-mail and your question, and we will "
                    "get back to you."
                ),
            ]
        )
    elif reason == "timeout":
        message = _(
            "Sorry, no operator could take your chat in time. Leave your name, phone "
            "or e-mail and your question, and we will get back to you."
        )
    else:
        message = _(
            "No operator is online right now. Leave your name, phone or e-mail and "
            "your question, and we will get back to you."
        )
    return {
        "type": "support_unavailable",
        "message": message,
        "reason": reason,
        "working_hours": hours,
        "offline_form": True,
    }


def joined_notice(operator_name: str, *, transferred: bool = False) -> str:
    """What the visitor reads in the conversation when an operator joins or takes over."""
    if transferred:
        return _("%(name)s has taken over the chat.") % {"name": operator_name}
    return _("%(name)s has joined the chat.") % {"name": operator_name}


def support_joined_frame(
    operator_name: str, *, transferred: bool = False, notice: MessageData | None = None
) -> dict[str, Any]:
    """`notice` (extension): the system message stored for this join, when it is news."""
    frame: dict[str, Any] = {
        "type": "support_joined",
        "operator": {"name": operator_name},
        "transferred": transferred,
    }
    if notice is not None:
        frame["notice"] = notice
    return frame


def closed_notice(by: str, *, ask_rating: bool) -> str:
    """What the visitor reads in the conversation when the operator conversation ends."""
    if by == "operator":
        message = _("The operator has ended the conversation.")
    elif by == "visitor":
        message = _("You have ended the conversation with the operator.")
    else:
        message = _("The conversation with the operator has ended.")
    parts = [message]
    if ask_rating:
        parts.append(_("Please rate how we helped you."))
    parts.append(_("The AI assistant will answer your questions again."))
    return " ".join(parts)


def visitor_chat_closed_frame(
    by: str, *, ask_rating: bool, notice: MessageData | None = None
) -> dict[str, Any]:
    """`notice` (extension): the system message stored with the same text."""
    frame: dict[str, Any] = {
        "type": "chat_closed",
        "by": by,
        "message": notice["message"] if notice else closed_notice(by, ask_rating=ask_rating),
        "ask_rating": ask_rating,
    }
    if notice is not None:
        frame["notice"] = notice
    return frame


def operator_typing_frame(session_id: str, typing: bool) -> dict[str, Any]:
    return {"type": "operator_typing", "typing": typing, "session_id": session_id}


def operator_message_frame(
    message: ChatMessage, session_id: str, operator_name: str
) -> dict[str, Any]:
    """To the visitor's tabs, and to the operator's other tabs (they filter their own)."""
    return {
        "type": "operator_message",
        "id": message.id,
        "message": message.text,
        "timestamp": message.created_at.isoformat(),
        "operator": {"name": operator_name},
        "session_id": session_id,
        "client_id": message.client_id,
    }


def operator_state_frame(
    operator: OperatorRef, *, status: str, heartbeat_seconds: int
) -> dict[str, Any]:
    """The first frame of an operator socket (before `queue`)."""
    return {
        "type": "operator_state",
        "operator": operator,
        "status": status,
        "heartbeat_seconds": heartbeat_seconds,
    }


def operator_status_frame(status: str) -> dict[str, Any]:
    """To all tabs of the operator who switched between online and away."""
    return {"type": "operator_status", "status": status}
