"""Words the catalogue does not use, read by their meaning: the themes a tourist asks by."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from ai import knowledge, retrieval
from tests.ai.conftest import answer, start_chat
from tests.factories import make_tour
from tours.demo import load_demo_tours
from tours.demo_faq import load_demo_faq

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db: None) -> date:
    today = timezone.localdate()
    load_demo_tours(today)
    load_demo_faq()
    return today


def first_three(text: str) -> list[str]:
    return [t.slug for t in knowledge.find(text).search.tours[:3]]


@pytest.mark.parametrize(
    ("question", "fitting"),
    [
        # No tour says "природа": lakes, a reserve, a glade do.
        ("хочу на природу", {"blue-lakes-kazan", "raifa-and-blue-lakes", "tetyushi-volga-cliffs"}),
        ("где можно искупаться", {"blue-lakes-kazan", "raifa-and-blue-lakes"}),
        ("куда поехать паломнику", {"raifa-monastery", "sviyazhsk-island-town"}),
        ("экскурсия про православие", {"raifa-monastery", "sviyazhsk-island-town"}),
        ("что посмотреть с подростком", {"innopolis-city-of-future", "tatar-village-ethno"}),
        ("мы любим старину", {"bolgar-ancient-city", "kazan-old-tatar-sloboda"}),
        ("где вкусно покормят", {"kazan-gastro-tour", "tatar-village-ethno"}),
    ],
)
def test_a_theme_finds_the_tours_that_speak_of_it_in_their_own_words(demo, question, fitting):
    shown = first_three(question)
    assert shown, question
    assert set(shown) & fitting, shown


def test_a_word_itself_weighs_more_than_a_word_of_its_theme(transactional_db):
    lake = make_tour(title="Озеро Кабан", slug="kaban-lake", description="Прогулка у воды.")
    named = make_tour(title="Природа Камы", slug="kama-nature", description="Прогулка по лесу.")
    shown = [t.slug for t in knowledge.find("хочу на природу").search.tours]
    assert shown[:2] == [named.slug, lake.slug]


def test_a_theme_word_in_a_description_alone_does_not_decide(transactional_db):
    # One lake mentioned in passing is not a nature tour: a title or summary must say it.
    make_tour(title="Старо-Татарская слобода", description="Прогулка вдоль озера Кабан.")
    search = knowledge.find("хочу на природу").search
    assert search.tours == []


def test_a_word_that_named_a_theme_is_not_reported_as_unknown(demo):
    search = knowledge.find("куда поехать паломнику").search
    assert "паломнику" not in search.unmatched_words
    assert search.text_matched


def test_a_theme_the_catalogue_has_no_words_for_finds_nothing(transactional_db):
    make_tour(title="Казанский Кремль", description="Белокаменный Кремль и башня Сююмбике.")
    search = knowledge.find("хочу на природу").search
    assert search.tours == []
    assert "природу" in search.unmatched_words


def test_a_theme_counts_once_however_many_of_its_words_are_asked(transactional_db):
    # "семья", "дети", "школьный" all name the family theme: one extra reading, not three.
    games = make_tour(
        title="Татарская деревня",
        slug="village",
        short_description="Национальные игры и мастер-класс",
        description="Татарский дом и обед.",
    )
    words = knowledge.find("для семьи с детьми школьного возраста")
    assert [t.slug for t in words.search.tours] == [games.slug]
    # One theme reading at a summary's weight (2.0), not one per word.
    assert words.search.best_score == pytest.approx(2.0 * retrieval.MEANING_WORD)


@pytest.mark.parametrize(
    "question",
    [
        "что интересного для семьи с детьми школьного возраста",
        "посоветуйте экскурсию для семьи с детьми",
        "куда сходить с детьми?",
        "что можно посетить с ребенком 10 лет",  # the child's age is a facet and a theme
    ],
)
async def test_asking_what_to_do_with_children_lists_tours_not_only_the_rules(
    settings, demo, question
):
    settings.OPENROUTER_API_KEY = ""
    result, _streamed = await answer(await start_chat(question))
    assert set(result.meta["tour_slugs"][:3]) & {"innopolis-city-of-future", "tatar-village-ethno"}
    # The tours come first; the children's rules may follow.
    assert result.text.startswith("Подход")


async def test_a_rules_question_about_children_is_still_the_rule_alone(settings, demo):
    settings.OPENROUTER_API_KEY = ""
    result, _streamed = await answer(await start_chat("со скольки лет детям можно на экскурсию?"))
    assert result.meta["tour_slugs"] == []
    assert result.meta["faq_ids"]


@pytest.mark.parametrize(
    "question",
    [
        "ребенку 3 года, можно на гастротур?",
        "внуку 8 лет, на гастротур возьмете?",
        "можно на гастротур с ребенком?",
        "с малышом пустят на гастротур?",
    ],
)
def test_a_tour_the_question_names_outranks_the_family_theme_of_its_child(demo, question):
    # "ребёнку" names the family theme (games, master classes: the ethno village);
    # the visitor's own word names the gastro tour, which must come first.
    assert first_three(question)[0] == "kazan-gastro-tour"


@pytest.mark.parametrize(
    ("question", "tour_title"),
    [
        ("ребенку 3 года, можно на гастротур?", "«Гастрономическая Казань»"),
        ("внуку 8 лет, на гастротур возьмете?", "«Гастрономическая Казань»"),
        ("можно на гастротур с ребенком?", "«Гастрономическая Казань»"),
        ("со школьником 12 лет в елабугу можно?", "«Елабуга: купеческий город»"),
        ("внучке 5 лет можно в раифский монастырь?", "«Раифский Богородицкий монастырь»"),
    ],
)
async def test_whether_a_child_may_come_on_a_named_trip_is_answered_by_that_trip(
    settings, demo, question, tour_title
):
    settings.OPENROUTER_API_KEY = ""
    result, _streamed = await answer(await start_chat(question))
    # The trip first (with its age limit when it has one), the children's rules after.
    assert result.text.startswith("Подход")
    assert tour_title in result.text.split("\n\n")[0]
    assert "Да, большинство туров" not in result.text
    assert result.meta["faq_ids"]


async def test_a_child_too_young_for_the_named_trip_is_told_by_age_not_no_such_tour(settings, demo):
    settings.OPENROUTER_API_KEY = ""
    result, _streamed = await answer(await start_chat("внуку 6 лет, возьмут в иннополис?"))
    assert result.text.startswith("Для ребёнка 6 лет этот тур не подходит по возрасту:")
    assert "«Иннополис: город будущего»" in result.text and "детям от 8 лет" in result.text
    assert "Такого тура" not in result.text


async def test_a_child_with_no_trip_named_still_gets_the_rule_alone(settings, demo):
    # "можно" and a child, but no trip: the family theme alone names none.
    settings.OPENROUTER_API_KEY = ""
    result, _streamed = await answer(await start_chat("можно с внуком 5 лет на экскурсию?"))
    assert result.meta["tour_slugs"] == []
    assert result.meta["faq_ids"]


@pytest.mark.parametrize(
    "question",
    [
        "башня сююмбике входит в какую экскурсию?",
        "башня сююмбике входит в экскурсию по кремлю?",
    ],
)
async def test_a_faq_entry_sharing_only_a_verb_does_not_lead_a_tour_answer(
    settings, demo, question
):
    # "входить" is all the question shares with "Входят ли в стоимость входные билеты
    # и питание?": the tour the sight names answers, not the price rule.
    settings.OPENROUTER_API_KEY = ""
    result, _streamed = await answer(await start_chat(question))
    assert result.text.startswith("Подход")
    assert "«Казанский Кремль и мечеть Кул-Шариф»" in result.text
    assert "В стоимость входят" not in result.text


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        ("на каком языке экскурсия в болгаре", "на русском языке"),
        ("во сколько сбор на экскурсию в раифу и где", "гостиницы «Татарстан»"),
    ],
)
async def test_a_rules_question_with_its_trip_as_the_setting_gets_the_rule_alone(
    settings, demo, question, rule
):
    settings.OPENROUTER_API_KEY = ""
    result, _streamed = await answer(await start_chat(question))
    assert rule in result.text
    assert result.meta["tour_slugs"] == []


async def test_asking_for_trips_with_a_rule_still_lists_the_trips(settings, demo):
    settings.OPENROUTER_API_KEY = ""
    result, _streamed = await answer(await start_chat("какие экскурсии в болгаре есть?"))
    assert "bolgar-ancient-city" in result.meta["tour_slugs"]
