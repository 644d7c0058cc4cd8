"""A follow-up ("а сколько стоит?") is about the trip the conversation is on."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from tests.ai.conftest import converse
from tours.demo import load_demo_tours
from tours.demo_faq import load_demo_faq

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("turns", "tour", "fact"),
    [
        (["расскажи про свияжск", "а сколько стоит?"], "«Остров-град Свияжск»", "₽ с человека"),
        (["есть что-нибудь в раифу?", "а когда ближайшая?"], "Раиф", "Ближайший тур"),
        (["хочу на гастротур", "а места есть?"], "«Гастрономическая Казань»", "мест: 1"),
        (["круиз по волге", "а сколько дней?"], "«Круиз по Волге", "3 дня"),
        (["иннополис", "а на троих есть места?"], "«Иннополис", "мест"),
        (["что есть в елабугу", "а с ребенком 5 лет можно?"], "«Елабуга", "для ребёнка 5 лет"),
        # Together they find none: that trip's nearest dates, not January's other tours.
        (["голубые озера", "а в январе?"], "«Голубые озёра»", "Туров в январе"),
    ],
)
async def test_a_follow_up_is_answered_about_the_trip_asked_before(offline_demo, turns, tour, fact):
    *_, follow_up = [a.text for a in await converse(*turns)]
    first_part = follow_up.split("\n\n")[0]
    assert tour in first_part
    assert fact in first_part
    assert "Вечерняя Казань" not in follow_up  # not the soonest tours of the catalogue


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        # A rules question stands on its own: the rule, not the trip again.
        (["расскажи про свияжск", "а как оплатить?"], "картой"),
        # A new subject is the new subject.
        (["расскажи про свияжск", "а в раифу что есть?"], "Раиф"),
    ],
)
async def test_a_question_with_its_own_subject_is_not_read_with_the_earlier_one(
    offline_demo, turns, expected
):
    *_, last = [a.text for a in await converse(*turns)]
    assert expected in last
    assert "Свияжск" not in last.split("\n\n")[0]


@pytest.mark.parametrize(
    ("turns", "tour", "fact"),
    [
        # What the tour named before includes: its own text, not every tour with a hotel.
        (["елабуга", "а гостиница входит?"], "«Елабуга", "ночёвкой в гостинице"),
        (["расскажи про свияжск", "а гостиница входит?"], "«Остров-град Свияжск»", "без ночёвки"),
        # A word that finds tours only by its theme ("кормят": обед, дегустация) names none.
        (["круиз по волге", "а кормят там?"], "«Круиз по Волге", "трёхразовое питание"),
        (
            ["раифа и голубые озера", "а обед входит в цену?"],
            "«Раифа и Голубые озёра»",
            "трапезной",
        ),
    ],
)
async def test_a_detail_asked_of_the_tour_named_before_comes_from_its_own_text(
    offline_demo, turns, tour, fact
):
    *_, follow_up = [a.text for a in await converse(*turns)]
    assert follow_up.startswith(f"Тур {tour}")
    assert fact in follow_up
    # Neither the other tours with the same thing nor the FAQ's general rule.
    assert "Болгар и Свияжск за два дня" not in follow_up
    assert "Питание включено, если это указано" not in follow_up


async def test_a_detail_after_a_place_of_several_tours_stays_at_that_place(offline_demo):
    *_, follow_up = [a.text for a in await converse("болгар", "а гостиница входит?")]
    assert "«Болгар и Свияжск за два дня»" in follow_up
    assert "Елабуга" not in follow_up  # another place's hotel is not the answer


@pytest.fixture
async def demo_with_model(settings, transactional_db, fake_openrouter):
    settings.AI_TOOLS_ENABLED = False  # the tours go in the prompt
    await sync_to_async(load_demo_tours)(timezone.localdate())
    await sync_to_async(load_demo_faq)()
    return fake_openrouter


async def test_the_models_prompt_for_a_follow_up_holds_the_trip_asked_before(demo_with_model):
    await converse("расскажи про свияжск", "а сколько стоит?")
    site_data = demo_with_model.last.messages[1]["content"]
    assert "Остров-град Свияжск" in site_data
    assert "Вечерняя Казань" not in site_data  # not the catalogue's soonest tours
