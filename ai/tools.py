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
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone
from django.utils.translation import gettext as _

from ai import booking_tool, catalog, knowledge, retrieval
from ai.calendar import Period, month_span
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


SORT_VALUES = list(retrieval.SORTS)

TOOLS: list[dict[str, Any]] = [
    _function(
        "search_tours",
        "Search the site's published upcoming tours, best match first. Use it for every "
        "question about which tours exist, when, where, prices, free places or duration. "
        "All filters are optional and combine; `place` understands other names of places and "
        "sights (Раифский монастырь, Булгар, Кул-Шариф), Latin spelling and typos. When "
        "nothing matches, the result names the filters that emptied it (`emptied_by`) and "
        "the nearest tours without them (`nearest`).",
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
                "description": "City, place or sight, e.g. Казань, Свияжск, Болгар, Кул-Шариф.",
            },
            "max_price": {"type": "number", "description": "Maximum price per person, RUB."},
            "min_price": {"type": "number", "description": "Minimum price per person, RUB."},
            "min_free_places": {
                "type": "integer",
                "minimum": 1,
                "description": "The group size: tours with at least this many free places.",
            },
            "child_age": {
                "type": "integer",
                "minimum": 0,
                "maximum": 17,
                "description": "Age of the youngest child: leaves out tours with a higher limit.",
            },
            "max_duration_hours": {
                "type": "integer",
                "minimum": 1,
                "description": "Same-day tours of at most this many hours (half a day: 5).",
            },
            "overnight": {
                "type": "boolean",
                "description": "true: tours with a night's stay; false: within one day.",
            },
            "query": {
                "type": "string",
                "description": "Words to find in titles and descriptions: мечеть, озёра, фото.",
            },
            "sort": {
                "type": "string",
                "enum": SORT_VALUES,
                "description": "relevance (default), price (cheapest first), -price, date "
                "(soonest first), duration (shortest first), -duration.",
            },
        },
        [],
    ),
    _function(
        "search_faq",
        "Search the site's FAQ (meeting point, what to bring, children, discounts, language, "
        "pets, accessibility, payment, refunds...). Returns the best entries with their answers.",
        {"query": {"type": "string", "description": "The visitor's question or its key words."}},
        ["query"],
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


class ToolArgumentError(ValueError):
    """An argument the model sent that we cannot use: the model reads `detail` and retries."""


MAX_ARGUMENTS_CHARS = 4000
MAX_PRICE = Decimal(10_000_000)
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def _refuse_constant(name: str) -> Any:
    raise ToolArgumentError(f"{name} is not a number JSON allows; send a plain number")


def _parse_arguments(raw: str) -> dict[str, Any]:
    """The call's JSON object; NaN, Infinity and oversized input are refused."""
    if len(raw or "") > MAX_ARGUMENTS_CHARS:
        raise ToolArgumentError(f"arguments longer than {MAX_ARGUMENTS_CHARS} characters")
    try:
        arguments = json.loads(raw or "{}", parse_constant=_refuse_constant)
    except ToolArgumentError:
        raise
    except (ValueError, RecursionError):
        raise ToolArgumentError("arguments are not valid JSON") from None
    if not isinstance(arguments, dict):
        raise ToolArgumentError("arguments must be a JSON object")
    return arguments


def _optional_str(arguments: dict[str, Any], name: str, limit: int = 200) -> str | None:
    value = arguments.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ToolArgumentError(f"{name} must be a string")
    if "\x00" in value:
        raise ToolArgumentError(f"{name} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ToolArgumentError(f"{name} is not valid text (lone surrogate)") from None
    return value.strip()[:limit] or None


def _finite(arguments: dict[str, Any], name: str) -> float | int | None:
    value = arguments.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ToolArgumentError(f"{name} must be a number, not a boolean")
    if isinstance(value, str):
        try:
            value = float(value.replace(" ", "").replace(",", "."))
        except ValueError:
            raise ToolArgumentError(f"{name} must be a number") from None
    if not isinstance(value, int | float):
        raise ToolArgumentError(f"{name} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        # json.loads reads 1e400 as infinity.
        raise ToolArgumentError(f"{name} must be a finite number")
    return value


def _optional_int(arguments: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = _finite(arguments, name)
    if value is None:
        return None
    if isinstance(value, float) and not value.is_integer():
        raise ToolArgumentError(f"{name} must be a whole number")
    number = int(value)
    if not low <= number <= high:
        raise ToolArgumentError(f"{name} must be between {low} and {high}")
    return number


def _optional_price(arguments: dict[str, Any], name: str) -> Decimal | None:
    value = _finite(arguments, name)
    if value is None:
        return None
    price = Decimal(str(value))
    if price < 0:
        raise ToolArgumentError(f"{name} must not be negative")
    return min(price, MAX_PRICE).quantize(Decimal("0.01"))


def _optional_bool(arguments: dict[str, Any], name: str) -> bool | None:
    value = arguments.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ToolArgumentError(f"{name} must be true or false")
    return value


def _optional_date(arguments: dict[str, Any], name: str) -> date | None:
    value = _optional_str(arguments, name, 40)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ToolArgumentError(f"{name} must be a date as YYYY-MM-DD") from None


# The argument names a model sent for each kind of filter, for `emptied_by`.
_FILTER_ARGUMENTS = {
    "dates": ("month", "date_from", "date_to"),
    "place": ("place",),
    "price": ("max_price", "min_price"),
    "free_places": ("min_free_places",),
    "age": ("child_age",),
    "duration": ("max_duration_hours", "overnight"),
    "text": ("query",),
}


@dataclass(frozen=True)
class _Search:
    query: retrieval.TourQuery
    require_text: bool
    ignored: list[str]
    given: frozenset[str]


_SEARCH_ARGUMENTS = frozenset(
    {
        "month",
        "date_from",
        "date_to",
        "place",
        "max_price",
        "min_price",
        "min_free_places",
        "child_age",
        "max_duration_hours",
        "overnight",
        "query",
        "sort",
    }
)


def _tour_search(arguments: dict[str, Any]) -> _Search:
    """The model's arguments as a query; place words the catalogue lacks become text."""
    month = _optional_int(arguments, "month", 1, 12)
    date_from = _optional_date(arguments, "date_from")
    date_to = _optional_date(arguments, "date_to")
    if date_from and date_to and date_from > date_to:
        raise ToolArgumentError("date_from is after date_to")
    text = _optional_str(arguments, "query") or ""
    # With no words to rank by, "relevance" would find nothing: a bare call
    # (the visitor asked "какие туры есть?") lists the coming tours by date.
    sort = _optional_str(arguments, "sort", 20) or ("relevance" if text else "date")
    if sort not in retrieval.SORTS:
        raise ToolArgumentError(f"sort must be one of {', '.join(retrieval.SORTS)}")
    max_price = _optional_price(arguments, "max_price")
    min_price = _optional_price(arguments, "min_price")
    if max_price is not None and min_price is not None and min_price > max_price:
        raise ToolArgumentError("min_price is above max_price")
    period = None
    if month:
        span = month_span(month, timezone.localdate())
        period = Period(str(month), (span,), "month")
    return _Search(
        query=retrieval.TourQuery(
            text=text,
            period=period,
            date_from=date_from,
            date_to=date_to,
            places=(),
            min_price=min_price,
            max_price=max_price,
            min_free_places=_optional_int(arguments, "min_free_places", 1, 10_000),
            child_age=_optional_int(arguments, "child_age", 0, 17),
            max_hours=_optional_int(arguments, "max_duration_hours", 1, 1000),
            overnight=_optional_bool(arguments, "overnight"),
            sort=sort,
        ),
        require_text=bool(text),
        ignored=sorted(set(arguments) - _SEARCH_ARGUMENTS),
        given=frozenset(k for k, v in arguments.items() if v not in (None, "")),
    )


def _search_tours(search: _Search, place: str | None) -> dict[str, Any]:
    """One DB hop: read the place through the catalogue, search, explain an empty result."""
    catalogue = retrieval.Catalogue.current()
    query, require_text = search.query, search.require_text
    if place:
        places, slugs = catalogue.places_named(place)
        if places or slugs:
            query = replace(query, places=tuple(places), tour_slugs=tuple(slugs))
            if slugs and not places:
                # A sight inside one tour ("Кул-Шариф"): its words find it.
                query = replace(query, text=f"{query.text} {place}".strip())
                require_text = True
        else:
            # Not a place of any tour: look for the words instead ("Кремль", "озёра").
            query = replace(query, text=f"{query.text} {place}".strip())
            require_text = True
    found = retrieval.search_tours(query, catalogue=catalogue, require_text=require_text)
    result: dict[str, Any] = {
        "tours": [t.data() for t in found.tours],
        "total": found.total,
        "currency": "RUB",
        "sort": query.sort,
    }
    if query.places:
        result["places"] = list(query.places)
    if search.ignored:
        result["ignored_arguments"] = search.ignored
    if not found.tours:
        emptied = [
            name
            for kind in found.emptied_by
            for name in _FILTER_ARGUMENTS.get(kind, ())
            if name in search.given
        ]
        if place and "text" in found.emptied_by:
            emptied.append("place")
        result["emptied_by"] = list(dict.fromkeys(emptied))
        result["nearest"] = [t.data() for t in found.nearest]
        result["detail"] = (
            "No tour matches all the filters. `emptied_by` names the filters that left "
            "nothing; `nearest` are the closest tours without them: offer them as "
            "alternatives, and say plainly that the exact wish is not available."
            if found.nearest
            else "No published upcoming tour matches; say so plainly."
        )
    return result


def _search_faq(text: str) -> dict[str, Any]:
    hits = retrieval.search_faq(text, limit=3)
    return {
        "entries": [{"id": h.id, "question": h.question, "answer": h.answer} for h in hits],
        **({} if hits else {"detail": "Nothing in the FAQ; get_booking_policy has the rules."}),
    }


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
    """Run one tool call; any failure becomes an `error` result the model can read.

    The arguments are the model's output, untrusted: a bad one is an
    `invalid_arguments` result, and anything else that goes wrong is a
    `tool_failed` result, so the visitor still gets an answer.
    """
    run.names.append(call.name)
    try:
        arguments = _parse_arguments(call.arguments)
        return await _dispatch(call.name, arguments, run)
    except ToolArgumentError as exc:
        return {"error": "invalid_arguments", "detail": str(exc)}
    except Exception:
        logger.exception("tool %s failed on arguments %.200r", call.name, call.arguments)
        return {"error": "tool_failed", "detail": "The tool failed; answer without it."}


async def _dispatch(name: str, arguments: dict[str, Any], run: ToolRun) -> dict[str, Any]:
    if name == "search_tours":
        search = _tour_search(arguments)
        place = _optional_str(arguments, "place", 120)
        result = await database_sync_to_async(_search_tours)(search, place)
        run.saw_tours(result["tours"] + result.get("nearest", []))
        return result
    if name == "search_faq":
        text = _optional_str(arguments, "query", 500)
        if not text:
            raise ToolArgumentError("query is required")
        found = await database_sync_to_async(_search_faq)(text)
        run.faq_ids.extend(e["id"] for e in found["entries"] if e["id"] not in run.faq_ids)
        return found
    if name == "get_tour":
        slug = _optional_str(arguments, "slug", 100)
        if not slug:
            raise ToolArgumentError("slug is required")
        if not _SLUG.match(slug):
            raise ToolArgumentError("slug is letters, digits and hyphens, e.g. raifa-monastery")
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
        if reference and not _REFERENCE.match(reference):
            raise ToolArgumentError("reference looks like TT-XXXXXX")
        bookings = await database_sync_to_async(catalog.user_bookings)(run.user_id, reference)
        return {"bookings": bookings}
    if name == "handoff_to_operator":
        run.handoff = True
        run.handoff_reason = _optional_str(arguments, "reason", 500) or ""
        return {"handoff": True, "detail": "The chat is being put in the operator queue."}
    if name == booking_tool.NAME:
        try:
            return await booking_tool.execute(arguments, run)
        except ValueError as exc:  # booking_tool's own argument checks
            raise ToolArgumentError(str(exc)) from None
    return {"error": "unknown_tool", "detail": f"no tool named {name!r}"}
