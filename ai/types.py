"""Plain data passed between the chat and the AI: no models, no DB access."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class TourFacts:
    """The tour the visitor is looking at, read from the database, never from the client."""

    slug: str
    title: str
    place: str
    price_per_person: Decimal
    start_date: date
    end_date: date
    duration_hours: int
    free_places: int
    short_description: str

    @classmethod
    def of(cls, tour: Any) -> TourFacts:
        """The facts of a tour: a `tours.Tour` or a catalogue row (`ai.retrieval.TourRow`),
        which both carry these attributes."""
        return cls(**{f.name: getattr(tour, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class HistoryItem:
    role: Role
    text: str
    author: str  # visitor / ai / operator / system: the prompt may say who spoke
    pending: bool = False  # a visitor message this answer must answer
    to_operator: bool = False  # a visitor message written to the operator line, not to the AI


@dataclass(frozen=True)
class AIRequest:
    """Everything one AI answer needs, gathered in one DB hop."""

    session_pk: int
    session_public_id: UUID
    reply_to: int  # id of the newest visitor message being answered
    history: list[HistoryItem]  # oldest first, ends with the visitor's message(s)
    tour: TourFacts | None
    user_id: int | None
    tokens_used: int  # by this session so far (the per-session budget)
    # The knowledge base's stamp read with the context (`ai.retrieval.knowledge_stamp`):
    # a process holding that one answers without a DB hop. None: read it when needed.
    knowledge_stamp: str | None = None


@dataclass(frozen=True)
class SupportLine:
    """What asking for an operator does now, read when the model hands off.

    The model words the handoff by it: "an operator will answer here, you
    are number 2 in the queue", or, with nobody to answer, "leave your
    contacts in the form". `reason`: no_operators / outside_hours.
    """

    status: Literal["queued", "pending", "operator", "unavailable"]
    position: int = 0
    reason: str = ""
    working_hours: str = ""


@dataclass
class AIAnswer:
    text: str
    source: Literal["model", "offline", "partial"]
    model: str = ""
    generation_id: str = ""
    latency_ms: int | None = None
    first_token_ms: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: Decimal | None = None
    fallback_used: bool = False
    error: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
