"""The model's propose_booking tool: checked arguments, facts from the database, no booking."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from ai import tools
from ai.streaming import ToolCallData
from tests.factories import make_tour
from tours.models import Booking

# Tools run their queries on the DB thread: the tour must be committed for it to see.
with_db = pytest.mark.django_db(transaction=True)


async def call(arguments: object, run: tools.ToolRun | None = None) -> dict:
    run = run or tools.ToolRun(user_id=None)
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return await tools.execute(ToolCallData("call_1", "propose_booking", raw), run)


def test_the_tool_is_offered_to_the_model():
    names = [tool["function"]["name"] for tool in tools.TOOLS]
    assert "propose_booking" in names
    assert "create_booking" not in names


@with_db
async def test_a_valid_proposal_is_noted_for_the_card_and_books_nothing():
    tour = await database_sync_to_async(make_tour)(places_booked=5)
    run = tools.ToolRun(user_id=None)
    result = await call({"slug": tour.slug, "participants": 2}, run)
    assert result["proposed"] is True
    assert result["total_price"] == 5000
    assert run.booking_proposals == [{"tour": tour.slug, "participants": 2}]
    # One card per answer.
    again = await call({"slug": tour.slug, "participants": 3}, run)
    assert again["error"] == "already_proposed"
    assert await Booking.objects.acount() == 0


@pytest.mark.parametrize(
    "arguments",
    [
        {"slug": "x", "participants": True},
        {"slug": "x", "participants": "2; DROP TABLE tours_booking"},
        {"slug": "x", "participants": 2.5},
        {"slug": "x"},
        {"participants": 2},
        {"slug": ["x"], "participants": 2},
        "not json",
        "[1, 2]",
    ],
)
async def test_hostile_arguments_are_refused_with_an_error_the_model_reads(arguments):
    # Refused before any query: no database needed.
    run = tools.ToolRun(user_id=None)
    result = await call(arguments, run)
    assert result["error"] == "invalid_arguments", result
    assert run.booking_proposals == []


@with_db
async def test_unknown_sold_out_and_oversized_proposals_are_errors():
    tour = await database_sync_to_async(make_tour)(max_participants=10, places_booked=9)
    assert (await call({"slug": "no-such-tour", "participants": 1}))["error"] == "not_found"
    sold_out = await call({"slug": tour.slug, "participants": 2})
    assert (sold_out["error"], sold_out["free_places"]) == ("sold_out", 1)
    big = await database_sync_to_async(make_tour)()
    assert (await call({"slug": big.slug, "participants": 1000}))["error"] == "invalid"
