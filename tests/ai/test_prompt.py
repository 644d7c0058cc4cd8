"""The system prompt: today's calendar, the catalogue's places, the widget's own words,
an off-topic rule apart from the handoff, and nothing hard-coded or in English."""

from __future__ import annotations

import re
from datetime import date

import pytest
from asgiref.sync import sync_to_async

from ai import prompt, tools
from ai.prompt import PROMPTS_DIR, calendar_context, coming_weekend, widget_text
from tests.ai.conftest import answer, start_chat
from tests.factories import make_tour

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_calendar_names_the_weekday_the_weekend_and_the_coming_holidays():
    context = calendar_context(date(2026, 4, 28))
    assert context["weekday"] == "вторник"
    assert context["today"] == "28 апреля 2026"
    assert context["weekend"].startswith("2 мая 2026")
    labels = [holiday["label"] for holiday in context["holidays"]]
    assert labels[0] == "майские праздники"
    assert context["holidays"][0]["dates"].startswith("1 мая 2026")


@pytest.mark.parametrize(
    ("today", "saturday"),
    [
        (date(2026, 12, 1), 5),
        (date(2026, 12, 5), 5),
        (date(2026, 12, 6), 5),
        (date(2026, 12, 7), 12),
    ],
    ids=["tuesday", "saturday", "sunday", "monday"],
)
def test_the_coming_weekend_is_this_one_while_it_lasts(today, saturday):
    first, last = coming_weekend(today)
    assert (first, last) == (date(2026, 12, saturday), date(2026, 12, saturday + 1))


async def test_places_come_from_the_catalogue_and_the_label_from_the_widget(fake_openrouter):
    await sync_to_async(make_tour)(place="Елабуга")
    await answer(await start_chat("Что посмотреть?"))
    system = fake_openrouter.last.messages[0]["content"]
    assert "Елабуга" in system
    assert "Свияжск" not in system  # no tour there: not named


def test_the_templates_name_no_sight_and_no_button_label():
    text = "\n".join(path.read_text() for path in PROMPTS_DIR.glob("*.txt"))
    for hard_coded in ("Кремль", "Свияжск", "Болгар", "Раиф", "Елабуг", "Позвать оператора"):
        assert hard_coded not in text
    without_tools = prompt.system_prompt(tools=False)
    assert f"«{widget_text('Call an operator')}»" in without_tools
    assert widget_text("Call an operator") == "Позвать оператора"


@pytest.mark.parametrize("with_tools", [True, False])
def test_the_prompt_has_an_off_topic_rule_apart_from_the_handoff(with_tools):
    system = prompt.system_prompt(tools=with_tools, places=("Казань",))
    off_topic = system.split("Вопросы не по теме:")[1].split("Безопасность:")[0]
    assert "помогаешь только с турами" in off_topic
    assert "Оператора из-за этого не предлагай" in off_topic
    assert "Оператор:" in system.split("Вопросы не по теме:")[0]  # the handoff rule is its own


@pytest.mark.parametrize("with_tools", [True, False])
def test_the_prompt_has_no_english_besides_tool_names(with_tools, settings):
    settings.AI_SITE_URL = "https://tours.example"
    system = prompt.system_prompt(tools=with_tools, places=("Казань",))
    allowed = {t["function"]["name"] for t in tools.TOOLS} | {"https", "tours", "example"}
    words = set(re.findall(r"[A-Za-z_]{3,}", system))
    assert words <= allowed, words - allowed
