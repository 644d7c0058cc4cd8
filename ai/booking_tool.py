"""The model's `propose_booking` tool: it offers a booking card, it never books.

The tool checks the tour and the number of people against the database and
notes the proposal in the answer's `ToolRun`; once the answer is stored,
`chat.booking.propose_after_answer` turns it into a card for the visitor.
Only the visitor's click on the card's «Подтвердить» creates a booking, so
a model talked into calling this (or calling a made-up `create_booking`,
which is an `unknown_tool`) books nothing.
"""

from __future__ import annotations

from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings

from ai import catalog
from tours import booking as bookings


class ToolRun(Protocol):
    """What this tool needs of `ai.tools.ToolRun` (tools imports this module, not back)."""

    booking_proposals: list[dict[str, Any]]

    def saw_tours(self, tours: list[dict[str, Any]]) -> None: ...


NAME = "propose_booking"
# One card per answer: a visitor confirms one booking at a time.
MAX_PROPOSALS_PER_ANSWER = 1

DEFINITION: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": NAME,
        "description": (
            "Show the visitor a booking card for one tour: tour, date, number of people, total "
            "price. It does NOT book: the visitor checks the card and presses its Confirm "
            "button. Call it only when the visitor wants to book a specific tour and said how "
            "many people go; take the slug from search_tours or get_tour."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "slug": {"type": "string", "description": "The tour's slug."},
                "participants": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "How many people go (children under 7 not counted).",
                },
            },
            "required": ["slug", "participants"],
            "additionalProperties": False,
        },
    },
}


def _check(slug: str, participants: int) -> dict[str, Any]:
    tour = bookings.bookable_tours().filter(slug=slug).first()
    try:
        checked = bookings.check_bookable(tour, participants)
    except bookings.BookingError as error:
        result: dict[str, Any] = {"error": error.code, "detail": error.message}
        if error.free_places is not None:
            result["free_places"] = error.free_places
        return result
    return {
        "proposed": True,
        "tour": catalog.tour_data(checked),
        "participants": participants,
        "total_price": catalog.money(bookings.total_price(checked, participants)),
        "currency": "RUB",
        "detail": (
            "The visitor now sees a booking card. Nothing is booked until they press its "
            f"Confirm button; the places are then held for {settings.BOOKING_HOLD_MINUTES} "
            "minutes until an operator confirms. Ask them to check the card."
        ),
    }


def _arguments(arguments: dict[str, Any]) -> tuple[str, int]:
    slug = arguments.get("slug")
    if not isinstance(slug, str) or not slug.strip() or len(slug) > 100:
        raise ValueError("slug must be a tour's slug")
    participants = arguments.get("participants")
    if isinstance(participants, bool) or not isinstance(participants, int | float | str):
        raise ValueError("participants must be an integer")
    try:
        count = int(participants)
    except ValueError:
        raise ValueError("participants must be an integer") from None
    if count != participants and str(count) != str(participants).strip():
        raise ValueError("participants must be an integer")
    return slug.strip(), count


async def execute(arguments: dict[str, Any], run: ToolRun) -> dict[str, Any]:
    """Check one proposal and note it for the card; ValueError for bad arguments."""
    slug, participants = _arguments(arguments)
    if len(run.booking_proposals) >= MAX_PROPOSALS_PER_ANSWER:
        return {"error": "already_proposed", "detail": "One booking card per answer."}
    result = await database_sync_to_async(_check)(slug, participants)
    if result.get("proposed"):
        run.booking_proposals.append({"tour": slug, "participants": participants})
        run.saw_tours([result["tour"]])
    return result
