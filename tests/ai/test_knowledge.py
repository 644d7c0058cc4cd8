"""FAQ and tour retrieval in Russian word forms (PostgreSQL full-text search, `russian`)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ai import knowledge, retrieval
from ai.calendar import period_in
from ai.facets import read_question
from tests.ai.conftest import coming_day
from tests.factories import make_tour
from tours.demo_faq import load_demo_faq
from tours.models import FaqEntry

pytestmark = pytest.mark.django_db(transaction=True)


def top_question(text: str) -> str:
    hits = knowledge.search_faq(text, limit=3)
    assert hits, f"nothing found for {text!r}"
    return hits[0].question


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Как вернуть деньги, если я отменю поездку?", "Можно ли отменить бронь и вернуть деньги?"),
        ("Через сколько дней вернут деньги на карту?", "Когда придут деньги после отмены?"),
        ("Берёте ли детей на экскурсии?", "Можно ли поехать с детьми?"),
        ("Где встречаемся перед отправлением?", "Где место сбора и во сколько отправление?"),
        # Getting to us is getting to where the tours start.
        ("Как к вам добраться?", "Где место сбора и во сколько отправление?"),
        ("а до вас на метро можно доехать?", "Где место сбора и во сколько отправление?"),
        ("где вы находитесь?", "Где место сбора и во сколько отправление?"),
        ("какой у вас адрес", "Где место сбора и во сколько отправление?"),
        ("Что надеть в мечеть?", "Что взять с собой на экскурсию?"),
        ("Можно оплатить картой Мир?", "Как оплатить тур?"),
        ("Скидки пенсионерам бывают?", "Есть ли скидки для групп, студентов и пенсионеров?"),
        ("А с собакой пустят?", "Можно ли взять с собой собаку?"),
    ],
)
def test_faq_is_found_by_word_forms(faq, question, expected):
    assert top_question(question) == expected


def test_unpublished_entries_are_not_found(faq):
    FaqEntry.objects.filter(question="Можно ли взять с собой собаку?").update(is_published=False)
    hits = knowledge.search_faq("А с собакой пустят?")
    assert "Можно ли взять с собой собаку?" not in [h.question for h in hits]


def test_greetings_alone_find_nothing(faq):
    assert knowledge.search_faq("Здравствуйте! Подскажите, пожалуйста") == []


def test_loading_the_demo_faq_twice_changes_nothing(faq):
    before = FaqEntry.objects.count()
    assert load_demo_faq() == 0
    assert FaqEntry.objects.count() == before >= 15


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("Какие туры есть в июне?", 6),
        ("туры на июнь", 6),
        ("до конца июня", 6),
        ("Что будет в мае?", 5),
        ("маяк", None),
        ("Что есть на март?", 3),
    ],
)
def test_months_in_their_word_forms(text, month):
    period = period_in(text, timezone.localdate())
    assert (period.end.month if period else None) == month


def test_topics_of_a_question(transactional_db):
    catalogue = retrieval.Catalogue.load()
    today = timezone.localdate()
    assert {"price", "places"} <= read_question(
        "Сколько стоит и есть ли места?", catalogue, today
    ).topics
    assert read_question("Хочу забронировать экскурсию", catalogue, today).topics >= {
        "booking",
        "tours",
    }
    assert read_question("туры дешевле 3 000 рублей", catalogue, today).query.max_price == 3000


def test_tours_for_a_question_by_month_place_and_words(transactional_db):
    june = make_tour(title="Июньский Кремль", start_date=coming_day(6))
    sviyazhsk = make_tour(title="Остров-град", place="Свияжск", start_date=coming_day(8))
    lakes = make_tour(
        title="Голубые озёра", description="Карстовые озёра с бирюзовой водой", place="Казань"
    )
    assert [t["slug"] for t in knowledge.tours_for("Что есть в июне?")] == [june.slug]
    assert [t["slug"] for t in knowledge.tours_for("Поездки в Свияжск")] == [sviyazhsk.slug]
    assert [t["slug"] for t in knowledge.tours_for("Хочу на озёра")] == [lakes.slug]
    assert knowledge.tours_for("Спасибо!") == []


@pytest.mark.parametrize(
    "question", ["как понять что места еще есть", "как проверить, есть ли места?"]
)
def test_how_to_find_out_about_places_is_the_places_entry_not_the_meeting_point(question):
    # "места" is in "Где место сбора?" too; "понять"/"проверить" is "узнать".
    load_demo_faq()
    hits = knowledge.search_faq(question)
    assert hits and hits[0].question == "Как узнать, есть ли свободные места?"


WEATHER = "Что будет, если тур отменят из-за погоды?"
CANCEL = "Можно ли отменить бронь и вернуть деньги?"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # The company calls the trip off: its rule (100% or another date), not the visitor's.
        ("тур отменили, как теперь вернуть деньги?", WEATHER),
        ("если экскурсию отменят из-за шторма, деньги вернёте?", WEATHER),
        ("вы отменили поездку, что теперь будет?", WEATHER),
        ("а если группа не наберётся, вернёте деньги?", WEATHER),
        # Called off, and the money paid: the money back, not how to pay.
        ("поездку отменили, что будет с моей оплатой?", WEATHER),
        ("рейс был отменён, а я уже заплатил", WEATHER),
        ("экскурсия отменилась, деньги вернут?", WEATHER),
        ("если вы отмените экскурсию, что с оплатой", WEATHER),
        # The visitor cancels: the 48-hour rule, whatever the form of the verb.
        ("как вернуть деньги, если я отменю тур?", CANCEL),
        ("мы отменили бронь, сколько вернут денег", CANCEL),
        ("если отменить поездку за день, вернут деньги?", CANCEL),
    ],
)
def test_who_cancels_decides_the_rule(faq, question, expected):
    assert top_question(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "что будет если я не приду",
        "я опоздаю минут на 20, что тогда",
        "если мы не успеем к отправлению, деньги пропадут?",
        "пропущу экскурсию — вернёте что-нибудь?",
    ],
)
def test_not_showing_up_is_the_cancellation_rules_no_show_clause(faq, question):
    # "приду" shares a verb with "Когда придут деньги после отмены?": not its subject.
    assert top_question(question) == CANCEL


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Paying in any verb, with how or by what: the payment entry, not "на месте".
        ("можно ли платить картой на месте", "Как оплатить тур?"),
        ("чем можно расплатиться?", "Как оплатить тур?"),
        ("как заплатить за экскурсию", "Как оплатить тур?"),
        # How much one pays for a child is its price: the children's entry.
        ("сколько платить за ребенка", "Можно ли поехать с детьми?"),
    ],
)
def test_paying_is_the_payment_entry_and_how_much_is_the_price(faq, question, expected):
    assert top_question(question) == expected
