"""Without a key, past the budget, or with every model down: the knowledge base answers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatSession
from tests.ai.conftest import answer, coming_day, start_chat
from tests.factories import make_tour
from tests.fakes.openrouter import Failure, Reply, ToolCall, count_tokens
from tours.demo import load_demo_tours
from tours.models import FaqEntry

pytestmark = pytest.mark.django_db(transaction=True)

OPERATOR_OFFER = "позовите оператора"


@pytest.fixture
def no_key(settings):
    settings.OPENROUTER_API_KEY = ""


async def test_without_a_key_june_tours_come_from_the_database(no_key, faq):
    june = await sync_to_async(make_tour)(
        title="Кремль в июне", start_date=coming_day(6), price_per_person=Decimal(2500)
    )
    await sync_to_async(make_tour)(title="Озёра в августе", start_date=coming_day(8))
    result, streamed = await answer(await start_chat("Какие туры есть в июне?"))
    assert result.source == "offline"
    # The fact first, the notice naming its cause last, no operator footer.
    assert result.text.startswith("Подходит 1 тур — в июне")
    assert "• «Кремль в июне» — " in result.text
    assert "2\u00a0500\u00a0₽ с человека, мест: 15" in result.text
    assert result.text.endswith("(Автоматический ответ по каталогу и FAQ сайта.)")
    assert "недоступен" not in result.text
    assert "Озёра в августе" not in result.text
    assert OPERATOR_OFFER not in result.text
    assert streamed.text == result.text
    assert result.meta["tour_slugs"] == [june.slug]
    assert result.error == "not_configured"


async def test_without_a_key_faq_answers_in_word_forms(no_key, faq):
    result, _ = await answer(await start_chat("Как вернуть деньги, если отменю?"))
    # A rules question: that entry's answer alone, no tours as padding.
    assert result.text.startswith("Да. При отмене не позднее чем за 48 часов")
    assert result.meta["tour_slugs"] == []
    assert len(result.meta["faq_ids"]) == 1


async def test_without_a_key_the_tour_page_question_gets_its_price_and_places(no_key, faq):
    tour = await sync_to_async(make_tour)(
        title="Свияжск", place="Свияжск", price_per_person=Decimal(3200), places_booked=12
    )
    result, _ = await answer(await start_chat("сколько стоит и есть ли места?", tour=tour))
    assert "Тур «Свияжск»" in result.text
    assert "3\u00a0200\u00a0₽ с человека, свободных мест: 8" in result.text


async def test_nothing_found_still_offers_a_person(no_key, faq):
    result, _ = await answer(await start_chat("Ыщщ"))
    assert "не нашлось ответа" in result.text
    assert OPERATOR_OFFER in result.text


@pytest.mark.parametrize(
    "question", ["посоветуй хороший фильм", "какую книгу почитать?", "как научиться плавать"]
)
async def test_a_subject_no_list_knows_is_still_redirected_to_the_tours(no_key, faq, question):
    # No off-topic word catches these; nothing of ours matches either, so the
    # answer says what the chat is for besides offering a person.
    result, _ = await answer(await start_chat(question))
    assert "Я помогаю с нашими турами по Татарстану" in result.text
    assert OPERATOR_OFFER in result.text
    assert result.meta["tour_slugs"] == [] and result.meta["faq_ids"] == []


async def test_every_model_failing_gives_the_offline_answer(fake_openrouter, faq, settings):
    settings.AI_MAX_ATTEMPTS = 2
    for model in settings.AI_MODELS:
        fake_openrouter.fail_model(model, Failure.unavailable(503))
    result, _ = await answer(await start_chat("Можно ли поехать с детьми?"))
    assert len(fake_openrouter.completions) == 2
    assert result.source == "offline"
    assert result.fallback_used is True
    assert "Дети до 7 лет едут бесплатно" in result.text
    assert result.meta["offline_reason"] == "unavailable"
    assert "ИИ-ассистент сейчас недоступен" in result.text


async def test_a_spent_token_budget_means_no_model_call(fake_openrouter, faq, settings):
    settings.AI_SESSION_TOKEN_BUDGET = 1000
    request = await start_chat("Как оплатить тур?")
    await ChatSession.objects.filter(pk=request.session_pk).aupdate(ai_tokens_used=1000)
    request = type(request)(**{**request.__dict__, "tokens_used": 1000})
    result, _ = await answer(request)
    assert fake_openrouter.completions == []
    assert result.source == "offline"
    assert "лимит ИИ-ассистента в этом чате исчерпан" in result.text
    # The fact asked for first: the payment entry's own answer, then the short notice.
    payment = await FaqEntry.objects.filter(question__icontains="оплат").afirst()
    assert payment is not None
    assert result.text.startswith(payment.answer[:40])
    assert result.error == "token_budget"


async def test_max_tokens_shrinks_to_what_is_left_of_the_budget(fake_openrouter, settings):
    settings.AI_SESSION_TOKEN_BUDGET = 1000
    settings.AI_MAX_TOKENS = 600
    request = await start_chat("Привет")
    request = type(request)(**{**request.__dict__, "tokens_used": 800})
    await answer(request)
    assert fake_openrouter.last.json["max_tokens"] == 200


async def test_budget_spent_during_tool_rounds_forces_a_final_turn(fake_openrouter, settings):
    fake_openrouter.responder = lambda body: Reply(tool_calls=[ToolCall("search_tours", {})])
    request = await start_chat("Какие туры есть?")
    await answer(request)  # to learn what one turn costs on the fake
    one_turn = count_tokens(fake_openrouter.completions[0].json)
    fake_openrouter.reset()
    settings.AI_SESSION_TOKEN_BUDGET = one_turn  # spent by the first turn's prompt
    await answer(request)
    assert [r.json["tool_choice"] for r in fake_openrouter.completions] == ["auto", "none"]


async def test_a_complaint_is_handed_to_a_person_with_a_short_answer(no_key, faq):
    result, _ = await answer(await start_chat("Хочу пожаловаться: гид нахамил нам"))
    assert result.meta["handoff"] is True
    assert result.meta["intent"] == "complaint"
    assert "оператор" in result.text
    assert result.meta["tour_slugs"] == []
    assert len(result.text) <= 200


async def test_cancelling_ones_booking_gets_the_rule_and_a_person(no_key, faq):
    result, _ = await answer(await start_chat("Отмените мою бронь TT-DEMO01, мы не едем"))
    assert result.meta["handoff"] is True
    assert "48 часов" in result.text  # the policy clause that applies


@pytest.mark.parametrize(
    "question",
    ["я уже забронировал, хочу отменить", "забронировали на субботу, надо перенести бронь"],
)
async def test_a_booking_change_gets_the_change_rule_not_how_to_book(no_key, faq, question):
    # "забронировал" matches "Как забронировать тур?" too: the rule quoted is the
    # one on what the operator will do (cancel, move), never "press «Забронировать»".
    result, _ = await answer(await start_chat(question))
    assert result.meta["handoff"] is True
    assert "Забронировать" not in result.text
    assert "48 часов" in result.text


async def test_a_head_count_is_not_a_handoff_and_is_answered_with_free_places(no_key, faq):
    await sync_to_async(make_tour)(title="Большая группа", max_participants=30, places_booked=20)
    await sync_to_async(make_tour)(title="Почти полный", max_participants=20, places_booked=18)
    result, _ = await answer(await start_chat("нас 5 человек, какие туры есть?"))
    assert "handoff" not in result.meta
    assert "на 5 чел." in result.text
    assert "«Большая группа»" in result.text and "мест: 10" in result.text
    assert "Почти полный" not in result.text


async def test_off_topic_gets_a_short_polite_redirect(no_key, faq):
    await sync_to_async(make_tour)(title="Кремль")
    result, _ = await answer(await start_chat("Кто победит на выборах?"))
    assert result.text.startswith("Я помогаю только с нашими турами по Татарстану")
    assert result.meta["tour_slugs"] == [] and result.meta["faq_ids"] == []
    assert "handoff" not in result.meta


@pytest.mark.parametrize(
    "question", ["сколько ехать от москвы до казани", "какой отель в казани лучше"]
)
async def test_getting_to_the_city_or_its_hotels_get_the_redirect_not_its_tours(
    no_key, faq, question
):
    await sync_to_async(make_tour)(title="Кремль", place="Казань")
    await sync_to_async(make_tour)(title="Елабуга с ночёвкой", place="Елабуга", duration_hours=36)
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("Я помогаю только с нашими турами по Татарстану")
    assert result.meta["tour_slugs"] == [] and result.meta["faq_ids"] == []


async def test_no_such_tour_says_why_and_offers_the_nearest(no_key, faq):
    await sync_to_async(make_tour)(title="Дорогой тур", price_per_person=Decimal(9000))
    result, _ = await answer(await start_chat("есть экскурсии до 1000 рублей?"))
    assert result.text.startswith("Туров до 1\u00a0000\u00a0₽ с человека нет.")
    assert "«Дорогой тур»" in result.text and "9\u00a0000\u00a0₽" in result.text


async def test_the_cheapest_is_named_first(no_key, faq):
    await sync_to_async(make_tour)(title="Дорогой", price_per_person=Decimal(5000))
    await sync_to_async(make_tour)(title="Дешёвый", price_per_person=Decimal(1200))
    result, _ = await answer(await start_chat("какая самая дешевая экскурсия?"))
    assert result.text.startswith("Самый недорогой тур — «Дешёвый»: 1\u00a0200\u00a0₽ с человека")


@pytest.mark.parametrize(
    ("question", "facts"),
    [
        ("озёра: когда ближайшая и сколько мест?", ["мест: 12"]),
        ("какая ближайшая поездка на озёра и почём?", ["1\u00a0700\u00a0₽ с человека"]),
        ("самая дешевая поездка на озёра, сколько мест?", ["мест: 12"]),
    ],
)
async def test_the_one_named_by_a_sort_gets_the_other_facts_asked(no_key, faq, question, facts):
    # Chosen by date or price, it is still asked its places or price: the number, not
    # only the fact it was chosen by (and not the FAQ on where to look it up).
    await sync_to_async(make_tour)(
        title="Озёра",
        place="Казань",
        start_date=coming_day(7),
        price_per_person=Decimal(1700),
        max_participants=20,
        places_booked=8,
    )
    await sync_to_async(make_tour)(
        title="Озёра осенью", place="Казань", start_date=coming_day(10), price_per_person=3000
    )
    result, _ = await answer(await start_chat(question))
    first = result.text.split("\n")[0]
    assert "«Озёра»" in first
    for fact in facts:
        assert fact in first


async def test_a_thing_no_tour_offers_is_said_even_when_a_place_fits(no_key, faq):
    await sync_to_async(make_tour)(title="Кремль", place="Казань")
    result, _ = await answer(await start_chat("посоветуй ресторан в Казани"))
    assert result.text.startswith("Тура по запросу «ресторан» у нас нет.")
    assert "«Кремль»" in result.text  # what the place offers, as the alternative


async def test_the_faq_fact_comes_first_when_it_is_what_was_asked(no_key, faq):
    await sync_to_async(make_tour)(title="Кремль", max_participants=30, places_booked=0)
    result, _ = await answer(await start_chat("нас 10 человек, есть скидка?"))
    assert result.text.startswith("Группам от 10 человек — скидка 10%.")
    assert "«Кремль»" in result.text and "мест: 30" in result.text


async def test_a_rules_question_naming_its_trip_gets_the_rule_alone(no_key, faq):
    """The trip named by where it goes is the question's setting, not a tour search."""
    await sync_to_async(make_tour)(
        title="Теплоход в Свияжск", place="Свияжск", short_description="Речная прогулка"
    )
    result, _ = await answer(
        await start_chat("с ребёнком на теплоходе в Свияжск — какие документы взять?")
    )
    assert "свидетельство о рождении" in result.text
    assert "«Теплоход в Свияжск»" not in result.text
    assert result.meta["tour_slugs"] == []


@pytest.mark.parametrize(
    "question",
    [
        "что надеть на экскурсию зимой",
        "как одеться в январе на поездку в Свияжск?",
        "что с собой брать зимой на прогулку",
        "какая обувь нужна в Свияжск",
    ],
)
async def test_what_to_wear_or_bring_in_a_season_gets_the_rule_alone(no_key, faq, question):
    """A season or a place is when and where the clothes are for, not a tour search."""
    await sync_to_async(make_tour)(
        title="Остров-град", place="Свияжск", start_date=coming_day(1, 20)
    )
    await sync_to_async(make_tour)(title="Зимняя Казань", start_date=coming_day(12, 20))
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("Удобную обувь, воду и головной убор летом")
    assert "«Остров-град»" not in result.text and "«Зимняя Казань»" not in result.text
    assert result.meta["tour_slugs"] == []


async def test_a_childs_age_with_a_named_tour_gets_that_tours_condition(no_key, faq):
    await sync_to_async(make_tour)(
        title="Технопарк",
        place="Иннополис",
        short_description="Роботы и лаборатории, для детей от 10 лет",
    )
    result, _ = await answer(await start_chat("дочери 7 лет, можно в иннополис?"))
    assert "«Технопарк»" in result.text
    assert "от 10 лет" in result.text


@pytest.mark.parametrize(
    "question",
    [
        "с какого возраста берут детей в иннополис?",
        "сколько лет должно быть ребенку для иннополиса",
        "со скольки лет можно в иннополис",
    ],
)
async def test_the_age_a_named_trip_takes_children_from_is_that_trips_limit_first(
    no_key, faq, question
):
    """Asked as such ("с какого возраста"), it is whether a child may come: the trip
    and its limit lead, the general children's rule comes after, if at all."""
    await sync_to_async(make_tour)(
        title="Технопарк", place="Иннополис", short_description="Роботы, для детей от 8 лет"
    )
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("Подходит 1 тур")
    assert "«Технопарк»" in result.text and "от 8 лет" in result.text


async def test_age_limits_in_general_are_the_childrens_rule_not_limited_mobility(no_key, faq):
    # "возрастные ограничения" shares "ограничения" with "ограниченной подвижностью".
    result, _ = await answer(await start_chat("есть ли возрастные ограничения на экскурсии?"))
    assert "Дети до 7 лет едут бесплатно" in result.text
    assert "маломобильн" not in result.text


@pytest.mark.parametrize(
    ("question", "shown", "not_shown"),
    [
        ("туры после 20 июля", "«Поздний»", "«Ранний»"),
        ("до 10 июля что-нибудь есть?", "«Ранний»", "«Поздний»"),
        ("в конце июля что есть?", "«Поздний»", "«Ранний»"),
        ("в начале июля куда съездить", "«Ранний»", "«Поздний»"),
    ],
)
async def test_a_day_bounding_the_dates_is_a_bound_not_that_day(
    no_key, faq, question, shown, not_shown
):
    await sync_to_async(make_tour)(title="Ранний", start_date=coming_day(7, 5))
    await sync_to_async(make_tour)(title="Поздний", start_date=coming_day(7, 25))
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("Подходит 1 тур")
    assert shown in result.text and not_shown not in result.text
    assert "нет." not in result.text.split("\n")[0]


@pytest.mark.parametrize(
    "question",
    ["нас пятеро, на раифу места есть?", "есть места на раифу на троих", "сколько мест в раифу"],
)
async def test_free_places_answered_by_the_tours_get_no_faq_repeating_them(no_key, faq, question):
    """The tour line states its free places: the meeting-point entry (its "место" and
    "Раифу") and the how-to-check-places entry only repeat it."""
    await sync_to_async(make_tour)(title="Монастырь", place="Раифа", places_booked=5)
    result, _ = await answer(await start_chat(question))
    assert "«Монастырь»" in result.text and "мест: 15" in result.text
    assert "гостиниц" not in result.text and "Число свободных мест" not in result.text
    assert result.meta["faq_ids"] == []


async def test_a_tours_page_places_question_gets_its_places_without_the_faq(no_key, faq):
    tour = await sync_to_async(make_tour)(title="Монастырь", place="Раифа", places_booked=5)
    result, _ = await answer(await start_chat("есть ли свободные места?", tour=tour))
    assert "свободных мест: 15" in result.text
    assert "Число свободных мест" not in result.text


async def test_a_faq_fact_the_tours_do_not_state_still_comes_with_them(no_key, faq):
    await sync_to_async(make_tour)(title="Монастырь", place="Раифа")
    result, _ = await answer(await start_chat("когда поездка в раифу и где сбор?"))
    assert "«Монастырь»" in result.text and "гостиницы «Татарстан»" in result.text


@pytest.mark.parametrize("question", ["что будет, если мы не придём?", "а если я опоздаю?"])
async def test_not_showing_up_is_answered_with_the_no_show_clause_first(no_key, faq, question):
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("При неявке деньги не возвращаются.")
    assert "48 часов" in result.text  # cancelling in time instead
    assert "10 рабочих дней" not in result.text


@pytest.mark.parametrize("question", ["кто построил кремль?", "сколько лет казанскому кремлю"])
async def test_a_fact_of_a_tours_sight_no_data_holds_gets_the_tour_whose_guide_tells_it(
    no_key, faq, question
):
    """No tour's data says who built the sight or when, but a tour goes there: its
    guide tells the story, and that tour is the answer (not "I only help with tours",
    nor a made-up date)."""
    tour = await sync_to_async(make_tour)(title="Казанский Кремль", place="Казань")
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("Об этом подробно рассказывает гид на экскурсии:")
    assert result.meta["tour_slugs"] == [tour.slug] and result.meta["faq_ids"] == []


@pytest.mark.parametrize("question", ["сколько лет казани?", "почему казань так называется"])
async def test_a_fact_of_the_city_no_tour_visits_as_a_sight_gets_the_redirect(
    no_key, faq, question
):
    await sync_to_async(make_tour)(title="Казанский Кремль", place="Казань")
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("Я помогаю только с нашими турами по Татарстану")
    assert result.meta["tour_slugs"] == [] and result.meta["faq_ids"] == []


@pytest.mark.parametrize(
    "question", ["с ребёнком 3 лет куда можно?", "какие экскурсии подойдут школьнику 12 лет"]
)
async def test_where_to_go_with_a_child_gets_the_trips_that_take_it(no_key, faq, question):
    # The demo catalogue: the children's entry matches better than any tour's words.
    await sync_to_async(load_demo_tours)()
    result, _ = await answer(await start_chat(question))
    assert result.text.startswith("Подходит")
    assert "«Татарская деревня: этнотур»" in result.text
    assert "Дети до 7 лет едут бесплатно" in result.text  # the rule after the trips


async def test_a_family_on_a_date_asks_for_that_dates_trips_not_the_childrens_rule(no_key, faq):
    await sync_to_async(make_tour)(
        title="Деревня летом",
        short_description="Мастер-классы для всей семьи",
        start_date=coming_day(7),
    )
    result, _ = await answer(await start_chat("мы с женой и двумя детьми в июле"))
    assert "«Деревня летом»" in result.text
    assert "«жена»" not in result.text  # who comes along is no thing asked for
    assert not result.text.startswith("Да, большинство туров")


async def test_whether_children_may_come_in_a_season_is_still_the_rule(no_key, faq):
    await sync_to_async(make_tour)(title="Деревня", short_description="Для всей семьи")
    result, _ = await answer(await start_chat("можно ли с детьми зимой на экскурсию"))
    assert result.text.startswith("Да, большинство туров подходят для семей.")
    assert result.meta["tour_slugs"] == []
