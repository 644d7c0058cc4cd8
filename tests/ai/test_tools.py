"""Tool calls answered from the database: tours, one tour, policy, own bookings, handoff."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from ai import tools
from ai.streaming import ToolCallData
from tests.ai.conftest import answer, coming_day, start_chat
from tests.factories import make_tour
from tests.fakes.openrouter import (
    Failure,
    RecordedRequest,
    Reply,
    ToolCall,
    count_tokens,
    tour_assistant,
)
from tours.demo import load_demo_tours
from tours.demo_faq import load_demo_faq
from tours.models import Booking, Tour

pytestmark = pytest.mark.django_db(transaction=True)


def tool_results(request: RecordedRequest) -> list[dict[str, Any]]:
    return [json.loads(m["content"]) for m in request.messages if m["role"] == "tool"]


@pytest.fixture
def june_tours(transactional_db: None) -> dict[str, Tour]:
    june = coming_day(6, 10)
    return {
        "kremlin": make_tour(
            title="Кремль в июне", start_date=june, price_per_person=Decimal("2500.00")
        ),
        "sviyazhsk": make_tour(
            title="Свияжск летом",
            place="Свияжск",
            start_date=coming_day(6, 20),
            price_per_person=Decimal("3200.00"),
            max_participants=30,
            places_booked=12,
        ),
        "july": make_tour(title="Болгар в июле", start_date=coming_day(7, 5)),
        "draft": make_tour(title="Черновик июня", start_date=june, status=Tour.Status.DRAFT),
    }


async def test_june_question_is_answered_with_junes_tours_from_the_database(
    fake_openrouter, june_tours
):
    fake_openrouter.responder = tour_assistant
    result, streamed = await answer(await start_chat("Какие туры есть в июне?"))

    first, second = fake_openrouter.completions
    assert {t["function"]["name"] for t in first.json["tools"]} >= {"search_tours", "get_tour"}
    assert first.json["provider"] == {"require_parameters": True}
    assert first.json["tool_choice"] == "auto"
    (found,) = tool_results(second)
    assert [t["slug"] for t in found["tours"]] == [
        june_tours["kremlin"].slug,
        june_tours["sviyazhsk"].slug,
    ]
    assert found["tours"][0]["price_per_person"] == 2500
    assert found["tours"][1]["free_places"] == 18

    assert result.source == "model"
    assert "«Кремль в июне»" in result.text
    assert "2 500 ₽" in result.text
    assert "3 200 ₽" in result.text and "свободных мест: 18" in result.text
    assert "Болгар в июле" not in result.text and "Черновик" not in result.text
    assert streamed.text.strip() == result.text
    assert result.meta["tools"] == ["search_tours"]
    assert june_tours["kremlin"].slug in result.meta["tour_slugs"]
    # Both turns count against the session's budget.
    assert result.prompt_tokens == count_tokens(first.json) + count_tokens(second.json)


async def test_price_and_places_on_a_tour_page_come_from_get_tour(fake_openrouter, june_tours):
    fake_openrouter.responder = tour_assistant
    tour = june_tours["sviyazhsk"]
    result, _ = await answer(await start_chat("сколько стоит и есть ли места?", tour=tour))
    (details,) = tool_results(fake_openrouter.last)
    assert details["tour"]["slug"] == tour.slug
    assert "3 200 ₽ с человека" in result.text
    assert "свободных мест: 18" in result.text
    assert result.meta["tools"] == ["get_tour"]


async def test_search_filters_by_place_price_and_free_places(fake_openrouter, june_tours):
    fake_openrouter.script(
        Reply(
            tool_calls=[
                ToolCall("search_tours", {"place": "Свияжске", "max_price": 5000}),
                ToolCall("search_tours", {"max_price": 3000, "month": 6}),
                ToolCall("search_tours", {"min_free_places": 16, "month": 6}),
            ]
        ),
        "Готово.",
    )
    await answer(await start_chat("Ищу тур"))
    by_place, by_price, by_places = tool_results(fake_openrouter.last)
    assert [t["slug"] for t in by_place["tours"]] == [june_tours["sviyazhsk"].slug]
    assert [t["slug"] for t in by_price["tours"]] == [june_tours["kremlin"].slug]
    assert [t["slug"] for t in by_places["tours"]] == [june_tours["sviyazhsk"].slug]


async def test_unknown_slug_and_bad_arguments_become_error_results(fake_openrouter, june_tours):
    fake_openrouter.script(
        Reply(
            tool_calls=[
                ToolCall("get_tour", {"slug": june_tours["draft"].slug}),
                ToolCall("search_tours", {"month": 13}),
                ToolCall("drop_tables", {}),
            ]
        ),
        "Не нашёл.",
    )
    result, _ = await answer(await start_chat("Расскажи про тур"))
    draft, bad_month, unknown = tool_results(fake_openrouter.last)
    assert draft["error"] == "not_found"
    assert bad_month["error"] == "invalid_arguments"
    assert unknown["error"] == "unknown_tool"
    assert result.text == "Не нашёл."


async def test_booking_policy_comes_from_the_faq(fake_openrouter, faq):
    fake_openrouter.responder = tour_assistant
    result, _ = await answer(await start_chat("Как отменить бронирование?"))
    (policy,) = tool_results(fake_openrouter.last)
    assert "48 часов" in policy["policy"]
    assert "48 часов" in result.text
    assert result.meta["tools"] == ["get_booking_policy"]
    assert result.meta["faq_ids"]


@pytest.fixture
def bookings(transactional_db: None) -> dict[str, Any]:
    users = get_user_model().objects
    anna = users.create_user("anna", password="x")
    boris = users.create_user("boris", password="x")
    tour = make_tour(title="Раифа", place="Раифа")
    own = Booking.objects.create(tour=tour, user=anna, contact_name="Анна", participants=2)
    other = Booking.objects.create(tour=tour, user=boris, contact_name="Борис", participants=1)
    return {"anna": anna, "own": own, "other": other}


async def test_a_visitor_sees_only_their_own_bookings(fake_openrouter, bookings):
    fake_openrouter.script(
        Reply(
            tool_calls=[
                ToolCall("get_my_bookings", {}),
                ToolCall("get_my_bookings", {"reference": bookings["other"].reference}),
            ]
        ),
        "Вот ваши брони.",
    )
    await answer(await start_chat("Мои бронирования?", user_id=bookings["anna"].pk))
    mine, someone_elses = tool_results(fake_openrouter.last)
    assert [b["reference"] for b in mine["bookings"]] == [bookings["own"].reference]
    assert mine["bookings"][0]["total_price"] == 5000
    assert someone_elses["bookings"] == []
    assert "Борис" not in json.dumps(fake_openrouter.last.json, ensure_ascii=False)


async def test_anonymous_visitor_gets_no_bookings(fake_openrouter, bookings):
    fake_openrouter.script(
        Reply(tool_calls=[ToolCall("get_my_bookings", {"reference": bookings["own"].reference})]),
        "Войдите на сайт.",
    )
    await answer(await start_chat("Где моя бронь?"))
    (result,) = tool_results(fake_openrouter.last)
    assert result["error"] == "login_required"
    assert "bookings" not in result


async def test_handoff_tool_marks_the_answer(fake_openrouter):
    fake_openrouter.responder = tour_assistant
    result, _ = await answer(await start_chat("Соедините меня с менеджером, пожалуйста"))
    assert result.meta["handoff"] is True
    assert "менеджером" in result.meta["handoff_reason"]
    assert "оператору" in result.text


async def test_tool_rounds_are_bounded(fake_openrouter, settings):
    settings.AI_MAX_TOOL_ROUNDS = 2
    fake_openrouter.responder = lambda body: Reply(tool_calls=[ToolCall("search_tours", {})])
    result, streamed = await answer(await start_chat("Какие туры есть?"))
    requests = fake_openrouter.completions
    assert len(requests) == 3
    assert [r.json["tool_choice"] for r in requests] == ["auto", "auto", "none"]
    assert result.meta["tools"] == ["search_tours", "search_tours"]
    # The model never wrote an answer: the visitor still gets one.
    assert result.text and streamed.text.strip() == result.text


async def test_tool_calls_per_turn_are_bounded(fake_openrouter):
    calls = [ToolCall("search_tours", {"month": m}) for m in range(1, 7)]
    fake_openrouter.script(Reply(tool_calls=calls), "Итого.")
    result, _ = await answer(await start_chat("Все туры года?"))
    results = tool_results(fake_openrouter.last)
    assert len(results) == 6  # every call gets a result, as the API requires
    assert [r.get("error") for r in results[4:]] == ["too_many_tool_calls"] * 2
    assert len(result.meta["tools"]) == 4


async def test_models_without_tools_get_the_data_in_the_prompt(fake_openrouter, june_tours):
    fake_openrouter.fail_next(Failure.tools_unsupported())
    result, _ = await answer(await start_chat("Какие экскурсии будут в июне?"))
    first, second = fake_openrouter.completions
    assert "tools" in first.json
    assert "tools" not in second.json and "provider" not in second.json
    site_data = second.messages[1]["content"]
    assert "Кремль в июне" in site_data and "2\u00a0500\u00a0₽" in site_data
    assert "Свияжск летом" in site_data and "Болгар в июле" not in site_data
    assert result.source == "model"
    assert result.meta["mode"] == "context"

    # Learned for this process: the next answer does not offer tools at all.
    await answer(await start_chat("А в июле?"))
    assert "tools" not in fake_openrouter.last.json


async def test_models_listed_without_tools_never_get_tools(fake_openrouter, settings, june_tours):
    settings.AI_MODELS_WITHOUT_TOOLS = list(settings.AI_MODELS)
    await answer(await start_chat("Что есть в июне?"))
    (request,) = fake_openrouter.completions
    assert "tools" not in request.json
    assert "Кремль в июне" in request.messages[1]["content"]


# --- search_tours on the shared retrieval, search_faq, hostile arguments --------------------


@pytest.fixture
def demo(transactional_db: None) -> None:
    load_demo_tours()
    load_demo_faq()


async def search(**arguments: Any) -> dict[str, Any]:
    run = tools.ToolRun(user_id=None)
    call = ToolCallData(id="call_1", name="search_tours", arguments=json.dumps(arguments))
    return await tools.execute(call, run)


@pytest.mark.parametrize(
    ("arguments", "first"),
    [
        ({"place": "Раифский монастырь"}, "raifa-monastery"),
        ({"place": "Булгар"}, "bolgar-ancient-city"),
        ({"place": "Kazan", "query": "фото"}, "kazan-night-photo"),
        ({"place": "Казань", "query": "фото"}, "kazan-night-photo"),
        ({"query": "sviyazhsk"}, "sviyazhsk-island-town"),
        ({"place": "Кул-Шариф"}, "kazan-kremlin-kul-sharif"),
        ({"place": "Голубые озёра"}, "blue-lakes-kazan"),
    ],
)
async def test_plausible_arguments_find_the_tour(demo, arguments, first):
    result = await search(**arguments)
    assert result["tours"], result
    assert result["tours"][0]["slug"] == first


async def test_sort_by_price_answers_which_is_cheapest(demo):
    result = await search(sort="price")
    prices = [t["price_per_person"] for t in result["tours"]]
    assert prices == sorted(prices)
    cheapest = (
        await Tour.objects.filter(status=Tour.Status.PUBLISHED)
        .order_by("price_per_person")
        .afirst()
    )
    assert cheapest is not None and result["tours"][0]["slug"] == cheapest.slug
    assert result["total"] == 20 and result["sort"] == "price"


async def test_an_empty_search_names_the_filter_and_the_nearest_tours(demo):
    result = await search(place="Свияжск", max_price=1000)
    assert result["tours"] == []
    assert result["emptied_by"] == ["max_price"]
    assert result["nearest"][0]["slug"] == "sviyazhsk-island-town"
    assert "nearest" in result["detail"]


async def test_search_faq_finds_entries_that_are_not_policy(demo):
    run = tools.ToolRun(user_id=None)
    call = ToolCallData(id="c", name="search_faq", arguments='{"query": "где место сбора?"}')
    result = await tools.execute(call, run)
    assert result["entries"][0]["question"] == "Где место сбора и во сколько отправление?"
    assert run.faq_ids == [result["entries"][0]["id"]]
    assert {t["function"]["name"] for t in tools.TOOLS} >= {"search_faq", "search_tours"}


@pytest.mark.parametrize(
    ("name", "raw", "detail"),
    [
        ("search_tours", '{"max_price": NaN}', "NaN"),
        ("search_tours", '{"max_price": Infinity}', "Infinity"),
        ("search_tours", '{"max_price": -Infinity}', "-Infinity"),
        ("search_tours", '{"max_price": 1e999999}', "finite"),
        ("search_tours", '{"min_free_places": 1e400}', "finite"),
        ("search_tours", '{"min_free_places": 10000000000000000000000}', "between"),
        ("search_tours", '{"month": true}', "boolean"),
        ("search_tours", '{"month": "June"}', "number"),
        ("search_tours", '{"month": 6.5}', "whole"),
        ("search_tours", '{"place": "Каз\\u0000ань"}', "NUL"),
        ("search_tours", '{"query": "\\ud800"}', "surrogate"),
        ("search_tours", '{"place": ["Казань"]}', "string"),
        ("search_tours", '{"date_from": "завтра"}', "YYYY-MM-DD"),
        ("search_tours", '{"date_from": "2030-02-01", "date_to": "2030-01-01"}', "after"),
        ("search_tours", '{"sort": "random"}', "sort"),
        ("search_tours", '{"max_price": -5}', "negative"),
        ("search_tours", "[1, 2]", "object"),
        ("search_tours", "{" * 5000, "longer"),
        ("get_tour", '{"slug": "raifa\\u0000"}', "NUL"),
        ("get_tour", '{"slug": "../../etc"}', "slug"),
        ("get_my_bookings", '{"reference": "TT-1; drop"}', "reference"),
        ("search_faq", '{"query": 5}', "string"),
    ],
)
async def test_hostile_arguments_get_an_error_the_model_can_read(name, raw, detail):
    run = tools.ToolRun(user_id=1)
    result = await tools.execute(ToolCallData(id="c", name=name, arguments=raw), run)
    assert result["error"] == "invalid_arguments"
    assert detail in result["detail"]


async def test_a_huge_price_is_clamped_not_an_overflow(demo):
    result = await search(max_price=1e300)
    assert result["total"] == 20


async def test_hostile_arguments_through_the_model_still_give_the_visitor_an_answer(
    fake_openrouter, demo
):
    fake_openrouter.script(
        Reply(
            tool_calls=[
                ToolCall("search_tours", {"max_price": float("nan")}),
                ToolCall("search_tours", {"min_free_places": float("inf")}),
                ToolCall("get_tour", {"slug": "raifa\x00"}),
            ]
        ),
        "Вот что нашлось.",
    )
    result, streamed = await answer(await start_chat("Туры подешевле?"))
    results = tool_results(fake_openrouter.last)
    assert [r["error"] for r in results] == ["invalid_arguments"] * 3
    assert result.source == "model" and streamed.text.strip() == "Вот что нашлось."
