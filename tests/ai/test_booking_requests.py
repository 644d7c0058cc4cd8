"""A booking request to the offline answerer, off a tour's page: a card when one tour
fits, else the tours to choose from and a question for the date, which the next
message may answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.formats import date_format

from ai.types import AIAnswer
from chat.models import BookingProposal
from tests.ai.conftest import converse
from tours.models import Tour

pytestmark = pytest.mark.django_db(transaction=True)

HOW_TO_BOOK = "нажмите «Забронировать»"  # the FAQ entry on booking


def cards(answer: AIAnswer) -> list[dict[str, Any]]:
    return list(answer.meta.get("booking_proposals") or [])


async def day_of(slug: str) -> str:
    tour = await Tour.objects.aget(slug=slug)
    return date_format(tour.start_date, "j E")


@pytest.mark.parametrize(
    ("text", "slug", "people"),
    [
        # The only tour that goes there, with no date: its card.
        ("хочу забронировать свияжск на двоих", "sviyazhsk-island-town", 2),
        ("запишите нас троих в елабугу", "elabuga-merchant-town", 3),
        ("забронируйте 2 места на поездку в чистополь", "chistopol-pasternak", 2),
    ],
)
async def test_a_request_for_the_one_tour_to_a_place_gets_its_card(
    offline_demo, text, slug, people
):
    (answer,) = await converse(text)
    assert cards(answer) == [{"tour": slug, "participants": people}]
    tour = await Tour.objects.aget(slug=slug)
    assert "карточку брони" in answer.text and tour.title in answer.text
    # Under the card, that tour's facts as on its page, not how to book nor other trips.
    assert HOW_TO_BOOK not in answer.text
    assert answer.text.count("«") <= 3  # the card's title, the tour's line: no list


async def test_a_request_several_tours_fit_asks_for_the_date_and_the_next_message_books(
    offline_demo,
):
    (first,) = await converse("забронируйте мне 3 места на тур в болгар")
    assert cards(first) == []
    assert "напишите дату" in first.text
    assert HOW_TO_BOOK not in first.text
    # Only the Bolgar tours with three free places are offered.
    assert "«Болгар и Свияжск за два дня»" in first.text
    assert "«Древний Болгар»" not in first.text  # two places left
    assert await BookingProposal.objects.acount() == 0


async def test_the_date_in_the_next_message_completes_the_request(offline_demo):
    day = await day_of("bolgar-sviyazhsk-two-days")
    first, second = await converse("забронируйте мне 3 места на тур в болгар", f"на {day}")
    assert cards(first) == []
    assert cards(second) == [{"tour": "bolgar-sviyazhsk-two-days", "participants": 3}]
    assert await BookingProposal.objects.filter(participants=3).acount() == 1


async def test_a_date_after_a_question_that_was_no_booking_request_books_nothing(offline_demo):
    day = await day_of("bolgar-sviyazhsk-two-days")
    _, second = await converse("какие туры в болгар?", f"а на {day} на троих?")
    assert cards(second) == []


async def test_a_request_the_one_tour_has_no_room_for_gets_no_card_and_no_date_question(
    offline_demo,
):
    # Innopolis has one place left (tours/demo.py): no card for two, and no "which date?".
    (answer,) = await converse("забронируйте 2 места в иннополис")
    assert cards(answer) == []
    assert "напишите дату" not in answer.text
    assert "Иннополис" in answer.text


async def test_a_request_that_got_its_card_is_not_booked_again_by_the_next_message(offline_demo):
    first, second = await converse("хочу забронировать свияжск на двоих", "а как оплатить?")
    assert cards(first) and cards(second) == []


async def test_the_people_as_the_verbs_object_and_a_date_get_that_days_tour(offline_demo):
    day = await day_of("kazan-kremlin-kul-sharif")
    (answer,) = await converse(f"запишите двоих на экскурсию {day}")
    assert cards(answer) == [{"tour": "kazan-kremlin-kul-sharif", "participants": 2}]


async def test_a_tour_named_by_its_alias_without_room_gets_no_card_and_no_date_question(
    offline_demo,
):
    # The gastro tour has one place left (tours/demo.py).
    (answer,) = await converse("хочу забронировать гастротур на двоих")
    assert cards(answer) == []
    assert "Чтобы подготовить карточку" not in answer.text
    assert "«Гастрономическая Казань»" in answer.text
