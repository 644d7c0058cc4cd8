"""Plain data passed between the chat and the AI: no models, no DB access."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class HistoryItem:
    role: Role
    text: str
    author: str  # visitor / ai / operator / system: the prompt may say who spoke


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
