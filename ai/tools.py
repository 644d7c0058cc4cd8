"""The tools the model may call (OpenRouter tool calling) and their execution.

Facts come from here, not from the model: tours, prices, dates and free
places from the database, the rules from the FAQ tagged «правила». Each
tool is one short DB hop through `database_sync_to_async`. Arguments are
the model's output, so they are validated like any client input, and a
visitor only ever sees their own bookings.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from ai import booking_tool, catalog, knowledge
from ai.streaming import ToolCallData

logger = logging.getLogger(__name__)

# Tool calls the model may make in one turn; extra ones get an error result.
MAX_CALLS_PER_TURN = 4


def _function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


TOOLS: list[dict[str, Any]] = [
    _function(
        "search_tours",
        "Search the site's published upcoming tours. Use it for every question about which "
        "tours exist, when, where, prices or free places. All filters are optional.",
        {
            "month": {
                "type": "integer",
                "minimum": 1,
                "maximum": 12,
                "description": "Month of the start date (1-12), its coming occurrence.",
            },
            "date_from": {"type": "string", "description": "Earliest start date, YYYY-MM-DD."},
            "date_to": {"type": "string", "description": "Latest start date, YYYY-MM-DD."},
            "place": {
                "type": "string",
                "description": "City or place, e.g. Казань, Свияжск, Болгар.",
            },
            "max_price": {"type": "number", "description": "Maximum price per person, RUB."},
            "min_free_places": {"type": "integer", "minimum": 1},
            "query": {
                "type": "string",
                "description": "Words to find in titles and descriptions, e.g. мечеть, озёра.",
            },
        },
        [],
    ),
    _function(
        "get_tour",
        "Details of one tour by its slug: description, dates, price per person, free places.",
        {"slug": {"type": "string"}},
        ["slug"],
    ),
    _function(
        "get_booking_policy",
        "The site's rules on booking, payment, cancellation and refunds.",
        {},
        [],
    ),
    _function(
        "get_my_bookings",
        "The logged-in visitor's own bookings, optionally one by its reference (TT-XXXXXX). "
        "Returns nothing for other people's bookings.",
        {"reference": {"type": "string"}},
        [],
    ),
    _function(
        "handoff_to_operator",
        "Hand the chat to a human operator: when the visitor asks for a person, is unhappy, "
        "or needs something you cannot do (change or cancel a booking, a refund, a complaint).",
        {"reason": {"type": "string", "description": "Why, in a few words, in Russian."}},
        ["reason"],
    ),
    booking_tool.DEFINITION,
]


@dataclass
class ToolRun:
    """What the tools of one answer did: for the answer's meta."""

    user_id: int | None
    names: list[str] = field(default_factory=list)
    tour_slugs: list[str] = field(default_factory=list)
    faq_ids: list[int] = field(default_factory=list)
    handoff: bool = False
    handoff_reason: str = ""
    # Cards `propose_booking` offered ({tour, participants}): shown after the answer.
    booking_proposals: list[dict[str, Any]] = field(default_factory=list)

    def saw_tours(self, tours: list[dict[str, Any]]) -> None:
        for tour in tours:
            if tour["slug"] not in self.tour_slugs:
                self.tour_slugs.append(tour["slug"])


def _parse_arguments(raw: str) -> dict[str, Any]:
    try:
        arguments = json.loads(raw or "{}")
    except ValueError:
        raise ValueError("arguments are not valid JSON") from None
    if not isinstance(arguments, dict):
        raise ValueError("arguments must be a JSON object")
    return arguments


def _optional_str(arguments: dict[str, Any], name: str, limit: int = 200) -> str | None:
    value = arguments.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value.strip()[:limit] or None


def _optional_int(arguments: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = arguments.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer") from None
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return number


def _tour_filter(arguments: dict[str, Any]) -> catalog.TourFilter:
    max_price: Decimal | None = None
    if arguments.get("max_price") not in (None, ""):
        try:
            max_price = Decimal(str(arguments["max_price"]))
        except InvalidOperation:
            raise ValueError("max_price must be a number") from None
    query_text = _optional_str(arguments, "query")
    return catalog.TourFilter(
        month=_optional_int(arguments, "month", 1, 12),
        date_from=catalog.parse_date(arguments.get("date_from")),
        date_to=catalog.parse_date(arguments.get("date_to")),
        place=_optional_str(arguments, "place", 120),
        max_price=max_price,
        min_free_places=_optional_int(arguments, "min_free_places", 1, 1000),
        text=knowledge.search_query(query_text) if query_text else None,
    )


def _search_tours(criteria: catalog.TourFilter) -> dict[str, Any]:
    tours = catalog.search_tours(criteria)
    return {"tours": tours, "total": catalog.count_tours(criteria), "currency": "RUB"}


def _policy() -> dict[str, Any]:
    entries = knowledge.policy_entries()
    if not entries:
        return {"policy": _default_policy(), "faq_ids": []}
    text = "\n\n".join(f"{e.question}\n{e.answer}" for e in entries)
    return {"policy": text, "faq_ids": [e.id for e in entries]}


def _default_policy() -> str:
    return _(
        "Free cancellation up to 48 hours before the start of the tour: the payment "
        "is refunded in full. Later cancellations are refunded at 50%; no refund for "
        "a no-show. Payment is online by card when booking."
    )


async def execute(call: ToolCallData, run: ToolRun) -> dict[str, Any]:
    """Run one tool call; any failure becomes an `error` result the model can read."""
    run.names.append(call.name)
    try:
        arguments = _parse_arguments(call.arguments)
        return await _dispatch(call.name, arguments, run)
    except ValueError as exc:
        return {"error": "invalid_arguments", "detail": str(exc)}


async def _dispatch(name: str, arguments: dict[str, Any], run: ToolRun) -> dict[str, Any]:
    if name == "search_tours":
        result = await database_sync_to_async(_search_tours)(_tour_filter(arguments))
        run.saw_tours(result["tours"])
        return result
    if name == "get_tour":
        slug = _optional_str(arguments, "slug", 100)
        if not slug:
            raise ValueError("slug is required")
        tour = await database_sync_to_async(catalog.tour_details)(slug)
        if tour is None:
            return {"error": "not_found", "detail": f"no published tour with slug {slug!r}"}
        run.saw_tours([tour])
        return {"tour": tour}
    if name == "get_booking_policy":
        policy = await database_sync_to_async(_policy)()
        run.faq_ids.extend(i for i in policy.pop("faq_ids") if i not in run.faq_ids)
        return policy
    if name == "get_my_bookings":
        if run.user_id is None:
            return {
                "error": "login_required",
                "detail": "The visitor is not logged in; bookings are shown only to their owner.",
            }
        reference = _optional_str(arguments, "reference", 20)
        bookings = await database_sync_to_async(catalog.user_bookings)(run.user_id, reference)
        return {"bookings": bookings}
    if name == "handoff_to_operator":
        run.handoff = True
        run.handoff_reason = _optional_str(arguments, "reason", 500) or ""
        return {"handoff": True, "detail": "The chat is being put in the operator queue."}
    if name == booking_tool.NAME:
        return await booking_tool.execute(arguments, run)
    return {"error": "unknown_tool", "detail": f"no tool named {name!r}"}
