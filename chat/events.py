"""Typed frames of the wire contract (docs/protocol.md) and their builders.

Frames travel over the channel layer wrapped in a `LayerEvent`; consumers
forward them to their socket, so what is published is exactly what clients
read. Only plain JSON-able data goes over the layer, never model instances.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict
from uuid import UUID

from chat.models import ChatMessage, ChatSession
from chat.names import display_name

Author = Literal["visitor", "ai", "operator", "system"]


class MessageData(TypedDict):
    id: int
    author: Author
    message: str
    timestamp: str
    client_id: NotRequired[str]
    operator: NotRequired[dict[str, str]]


class LayerEvent(TypedDict):
    """What goes through channels' group_send: a frame for the sockets."""

    type: Literal["chat.event"]
    frame: dict[str, Any]
    # The channel name of a socket that already got this frame directly (it
    # skips the group's copy); never part of the frame clients read.
    origin: NotRequired[str]
    # Frames for the same group right after `frame`: one layer message, in order.
    more: NotRequired[list[dict[str, Any]]]


def session_group(public_id: UUID | str) -> str:
    """The Redis group of one chat: every tab of its visitor and its operator."""
    return f"chat.session.{UUID(str(public_id)).hex}"


def isoformat(message: ChatMessage) -> str:
    return message.created_at.isoformat()


def operator_name(message: ChatMessage) -> str:
    return display_name(message.operator) if message.operator else ""


def message_data(message: ChatMessage) -> MessageData:
    data: MessageData = {
        "id": message.id,
        "author": message.author,  # type: ignore[typeddict-item]
        "message": message.text,
        "timestamp": isoformat(message),
    }
    if message.client_id and message.author == ChatMessage.Author.VISITOR:
        data["client_id"] = message.client_id
    if message.author == ChatMessage.Author.OPERATOR and message.operator_id:
        data["operator"] = {"name": operator_name(message)}
    return data


def layer_event(
    frame: dict[str, Any], origin: str | None = None, more: list[dict[str, Any]] | None = None
) -> LayerEvent:
    event: LayerEvent = {"type": "chat.event", "frame": frame}
    if origin is not None:
        event["origin"] = origin
    if more:
        event["more"] = more
    return event


# --- Server -> visitor frames -------------------------------------------------


def registered_frame(
    session: ChatSession, token: str, status: str, messages: list[MessageData]
) -> dict[str, Any]:
    return {
        "type": "registered",
        "session_id": str(session.public_id),
        "token": token,
        "status": status,
        "messages": messages,
    }


def message_ack_frame(message: ChatMessage, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message_ack",
        "client_id": message.client_id,
        "id": message.id,
        "timestamp": isoformat(message),
        **extra,
    }


def visitor_message_frame(message: ChatMessage) -> dict[str, Any]:
    """To the visitor's other tabs and to the operator holding the chat."""
    return {
        "type": "visitor_message",
        "session_id": str(message.session.public_id),
        "id": message.id,
        "message": message.text,
        "timestamp": isoformat(message),
        "client_id": message.client_id,
    }


def ai_typing_frame(typing: bool) -> dict[str, Any]:
    return {"type": "ai_typing", "typing": typing}


def ai_chunk_frame(reply_to: int, text: str) -> dict[str, Any]:
    return {"type": "ai_chunk", "reply_to": reply_to, "text": text}


def ai_response_frame(message: ChatMessage) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "ai_response",
        "id": message.id,
        "message": message.text,
        "timestamp": isoformat(message),
        "reply_to": message.reply_to_id,
        # Extension: how the answer was made ("model", "offline", "partial").
        "source": message.ai_source,
    }
    return frame


def rated_frame(score: int) -> dict[str, Any]:
    return {"type": "rated", "score": score}


def visitor_typing_frame(session_id: str, typing: bool) -> dict[str, Any]:
    """To the operator holding the chat (the visitor's own tabs drop it)."""
    return {"type": "visitor_typing", "session_id": session_id, "typing": typing}
