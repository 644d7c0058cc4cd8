"""On a tour's page, a question about "the tour" is answered about that tour, from its text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from tests.ai.conftest import answer, start_chat
from tests.factories import make_tour

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_key(settings):
    settings.OPENROUTER_API_KEY = ""


def _two_days(**fields):
    start = timezone.localdate() + timedelta(days=20)
    return make_tour(start_date=start, end_date=start + timedelta(days=1), **fields)


@pytest.fixture
def catalogue(transactional_db):
    """An overnight tour whose text names its hotel and meals, another one, a one-day tour."""
    elabuga = _two_days(
        title="Елабуга: купеческий город",
        slug="elabuga",
        place="Елабуга",
        short_description="Город Шишкина и Цветаевой",
        description="Дом-музей Шишкина и купеческие особняки. Ночёвка в гостинице в центре. "
        "Завтрак и ужин включены.",
    )
    other = _two_days(
        title="Болгар за два дня",
        slug="bolgar-two-days",
        place="Болгар",
        description="Белая мечеть. Ночь в гостинице в Болгаре.",
    )
    kremlin = make_tour(title="Казанский Кремль", slug="kremlin", description="Башня Сююмбике.")
    return elabuga, other, kremlin


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("а гостиница входит в цену?", "Ночёвка в гостинице в центре."),
        ("где будем жить, отель включён?", "Ночёвка в гостинице в центре."),
        ("а питание включено?", "Завтрак и ужин включены."),
        ("кормят там?", "Завтрак и ужин включены."),
        ("где ночуем?", "Ночёвка в гостинице в центре."),
    ],
)
async def test_a_question_about_the_tour_is_answered_from_its_own_description(
    no_key, catalogue, question, sentence
):
    elabuga, other, _ = catalogue
    result, _streamed = await answer(await start_chat(question, tour=elabuga))
    assert result.text.startswith("Тур «Елабуга: купеческий город»")
    assert sentence in result.text
    assert other.title not in result.text  # not a search of every tour with a hotel
    assert result.meta["tour_slugs"] == [elabuga.slug]


async def test_a_hotel_question_on_a_one_day_tour_says_there_is_no_night(no_key, catalogue):
    _, _, kremlin = catalogue
    result, _streamed = await answer(
        await start_chat("а гостиница входит в стоимость?", tour=kremlin)
    )
    assert result.text.startswith("Тур «Казанский Кремль»")
    assert "Это однодневный тур, без ночёвки." in result.text
    assert "Елабуга" not in result.text


async def test_naming_another_tour_on_a_page_searches_for_it(no_key, catalogue):
    _, other, kremlin = catalogue
    result, _streamed = await answer(
        await start_chat("а в Болгар есть тур с гостиницей?", tour=kremlin)
    )
    assert other.title in result.text
    assert not result.text.startswith("Тур «Казанский Кремль»")


async def test_asking_for_other_dates_on_a_page_is_a_search(no_key, catalogue):
    _, _, kremlin = catalogue
    result, _streamed = await answer(await start_chat("туры с ночёвкой до 5000?", tour=kremlin))
    assert not result.text.startswith("Тур «Казанский Кремль»")


@pytest.mark.parametrize(
    "question", ["откуда отправление?", "где начинается экскурсия?", "как добираемся туда?"]
)
async def test_where_it_starts_is_read_from_the_tour_text(no_key, transactional_db, question):
    tour = await sync_to_async(make_tour)(
        title="Раифский монастырь",
        slug="raifa",
        place="Раифа",
        description="Троицкий собор и прогулка по заповеднику. Трансфер из Казани.",
    )
    result, _streamed = await answer(await start_chat(question, tour=tour))
    assert result.text.startswith("Тур «Раифский монастырь»")
    assert "Трансфер из Казани." in result.text
    assert "Троицкий собор" not in result.text  # only the sentence that answers


async def test_how_long_on_a_page_is_the_tours_own_duration(no_key, catalogue):
    elabuga, other, _ = catalogue
    result, _streamed = await answer(await start_chat("сколько длится?", tour=elabuga))
    assert result.text.startswith("Тур «Елабуга: купеческий город»")
    assert "2 дня" in result.text
    assert other.title not in result.text
    # The tour's own facts said it: not "the description does not say" beside it.
    assert "не сказано" not in result.text and "позовите оператора" not in result.text


async def test_what_the_tour_text_does_not_say_is_said_and_a_person_offered(no_key, catalogue):
    _, _, kremlin = catalogue
    result, _streamed = await answer(await start_chat("а трансфер есть?", tour=kremlin))
    assert result.text.startswith("Тур «Казанский Кремль»")
    assert "В описании тура об этом не сказано." in result.text
    assert "позовите оператора" in result.text


@pytest.fixture
def innopolis(transactional_db):
    return make_tour(
        title="Иннополис",
        slug="innopolis",
        place="Иннополис",
        short_description="Город будущего",
        description="Роботы и лаборатории. Подходит для семей с детьми от 8 лет.",
        max_participants=20,
        places_booked=17,
    )


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("с ребенком 6 лет можно?", "Для ребёнка 6 лет этот тур не подходит: детям — от 8 лет."),
        ("внуку 5 лет возьмете?", "Для ребёнка 5 лет этот тур не подходит: детям — от 8 лет."),
        ("дочке 10 лет можно с нами?", "Детям — от 8 лет: ребёнку 10 лет можно."),
        ("а с детьми пускают?", "Детям — от 8 лет."),
    ],
)
async def test_whether_a_child_may_come_on_the_pages_tour_is_its_age_limit(
    no_key, faq, innopolis, question, verdict
):
    # Not the general rule "most tours suit families": this tour is from 8.
    result, _streamed = await answer(await start_chat(question, tour=innopolis))
    assert result.text.startswith("Тур «Иннополис»")
    assert verdict in result.text
    assert "большинство туров" not in result.text
    assert result.meta["tour_slugs"] == [innopolis.slug]


async def test_a_child_on_a_tour_with_no_age_limit_is_told_so(no_key, faq, catalogue):
    _, _, kremlin = catalogue
    result, _streamed = await answer(await start_chat("ребенку 4 года можно?", tour=kremlin))
    assert result.text.startswith("Тур «Казанский Кремль»")
    assert "Ограничений по возрасту в описании тура нет." in result.text


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("есть места на 3 человек?", "Места на 3 чел. есть."),
        ("нас 2, места есть?", "Места на 2 чел. есть."),
        ("на 5 человек места найдутся?", "На 5 чел. мест не хватит: свободно 3."),
    ],
)
async def test_a_groups_places_on_a_page_are_that_tours_places(
    no_key, faq, innopolis, catalogue, question, verdict
):
    # Not a search of every tour with that many places.
    result, _streamed = await answer(await start_chat(question, tour=innopolis))
    assert result.text.startswith("Тур «Иннополис»")
    assert verdict in result.text
    assert "Елабуга" not in result.text and "Кремль" not in result.text


async def test_where_to_meet_gets_the_faq_when_the_text_says_only_how_it_goes(
    no_key, faq, transactional_db
):
    # The text speaks of the trip (a boat from Kazan) only through the theme of the
    # words; the FAQ entry on the meeting point names them, and says where.
    tour = await sync_to_async(make_tour)(
        title="Древний Болгар",
        slug="bolgar",
        place="Болгар",
        short_description="Белая мечеть и минареты",
        description="Поездка на теплоходе «Метеор» из Казани и обратно.",
    )
    result, _streamed = await answer(await start_chat("где сбор?", tour=tour))
    assert result.text.startswith("Тур «Древний Болгар»")
    assert "гостиницы «Татарстан»" in result.text
    assert "Метеор" in result.text
    assert result.meta["faq_ids"]


@pytest.mark.parametrize("question", ["а что там едят?", "что попробуем?", "а поедим где?"])
async def test_eating_on_the_pages_tour_is_answered_from_its_text(
    no_key, transactional_db, question
):
    # "едят" is a form of "есть", a stop word: eating is still a detail of the tour.
    tour = await sync_to_async(make_tour)(
        title="Гастрономическая Казань",
        short_description="Дегустации татарской кухни",
        description="Прогулка по старому центру. Кыстыбый, губадия и чак-чак.",
    )
    result, _ = await answer(await start_chat(question, tour=tour))
    assert "Дегустации татарской кухни" in result.text
    assert result.meta["tour_slugs"] == [tour.slug]


@pytest.mark.parametrize("question", ["а когда ближайшая дата и сколько мест?", "когда ближайший?"])
async def test_the_nearest_date_on_a_page_is_that_tours_date(no_key, faq, catalogue, question):
    # "ближайшая" sorts by date; on a page it is the date of the tour in front of one.
    elabuga, other, kremlin = catalogue
    result, _ = await answer(await start_chat(question, tour=elabuga))
    assert result.text.startswith("Тур «Елабуга: купеческий город»")
    assert other.title not in result.text and kremlin.title not in result.text
    assert "Число свободных мест указано" not in result.text  # the count is said above


@pytest.mark.parametrize("question", ["что посмотрим?", "какая программа?"])
async def test_the_programme_on_a_page_is_the_tours_own_text(no_key, catalogue, question):
    elabuga, _, _ = catalogue
    result, _ = await answer(await start_chat(question, tour=elabuga))
    assert "Город Шишкина и Цветаевой." in result.text
    assert "не сказано" not in result.text


async def test_an_initial_does_not_end_a_sentence(no_key, transactional_db):
    tour = await sync_to_async(make_tour)(
        title="Елабуга", short_description="Город Шишкина", description="Дом-музей И. И. Шишкина."
    )
    result, _ = await answer(await start_chat("что посмотрим?", tour=tour))
    assert "Дом-музей И. И. Шишкина." in result.text


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("в туре в елабугу гостиница входит?", "Ночёвка в гостинице в центре."),
        ("в елабуге кормят?", "Завтрак и ужин включены."),
    ],
)
async def test_a_detail_of_the_one_tour_a_question_names_is_from_its_text(
    no_key, faq, catalogue, question, sentence
):
    # Off any page: the tour named by its place answers as on its page.
    _, other, _ = catalogue
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("Тур «Елабуга: купеческий город»")
    assert sentence in result.text
    assert other.title not in result.text


async def test_the_tours_place_word_picks_no_sentence_of_its_text(no_key, faq, transactional_db):
    await sync_to_async(make_tour)(
        title="Иннополис", place="Иннополис", description="Университет Иннополис и роботы."
    )
    result, _ = await answer(await start_chat("в иннополис обед входит?"))
    assert "Университет Иннополис" not in result.text
    assert "Питание включено, если это указано в описании тура" in result.text
