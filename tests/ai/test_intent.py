"""Recognising a request for a human operator in Russian, without false alarms."""

from __future__ import annotations

import pytest

from ai.intent import Intent, classify, needs_person, wants_human


@pytest.mark.parametrize(
    "text",
    [
        "Хочу поговорить с оператором",
        "позовите человека",
        "Живой оператор есть?",
        "соедините с менеджером",
        "Оператора!",
        "оператор",
        "Можно связаться со специалистом?",
        "Переключите меня на живого человека, пожалуйста",
        "мне нужен менеджер",
        "Дайте поговорить с сотрудником",
        "с оператором можно пообщаться?",
        "ПОЗОВИТЕ ОПЕРАТОРА",
        "хочу общаться с живым человеком, а не с ботом",
        "Пригласите консультанта",
    ],
)
def test_requests_for_a_person(text):
    assert wants_human(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "оператор связи не ловит, пишу отсюда",
        "У меня сотовый оператор плохо работает",
        "Какие туры есть в июне?",
        "Нужен тур на 2 человека",
        "Сколько человек в группе?",
        "Хочу забронировать тур для двух человек",
        "Какой туроператор организует поездку?",
        "Я не хочу говорить с оператором, ответьте сами",
        "Сколько стоит и есть ли места?",
        "",
    ],
)
def test_not_requests_for_a_person(text):
    assert wants_human(text) is False


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Хочу пожаловаться на гида, он нахамил", Intent.COMPLAINT),
        ("Гид опоздал на час, автобус сломался", Intent.COMPLAINT),
        ("вы опоздали на сорок минут", Intent.COMPLAINT),
        ("Экскурсия не понравилась, требую компенсацию", Intent.REFUND_DISPUTE),
        ("Деньги за отменённый тур до сих пор не вернули", Intent.REFUND_DISPUTE),
        ("где мои деньги?", Intent.REFUND_DISPUTE),
        ("С карты списали деньги дважды", Intent.PAYMENT_PROBLEM),
        ("Оплата не проходит, пишет ошибку", Intent.PAYMENT_PROBLEM),
        ("оплатил, а подтверждение не пришло", Intent.PAYMENT_PROBLEM),
        ("Отмените мою бронь TT-DEMO01", Intent.BOOKING_CHANGE),
        ("а вы отмените мне бронь?", Intent.BOOKING_CHANGE),
        ("Хочу перенести бронь на другую дату", Intent.BOOKING_CHANGE),
        ("нужно добавить ещё одного человека в бронь", Intent.BOOKING_CHANGE),
        ("мы не сможем поехать, что делать с бронью", Intent.BOOKING_CHANGE),
        ("Это безобразие, сколько можно ждать!", Intent.ANGER),
        ("ВЫ ТАМ ВООБЩЕ РАБОТАЕТЕ?!!", Intent.ANGER),
        ("Позовите оператора", Intent.HUMAN),
        ("я хочу поменять количество человек в брони", Intent.BOOKING_CHANGE),
        ("мне не пришло письмо с подтверждением", Intent.PAYMENT_PROBLEM),
        ("spisali dvazhdy za odnu bron", Intent.PAYMENT_PROBLEM),
    ],
)
def test_what_a_person_should_handle(text, intent):
    assert classify(text) is intent
    assert needs_person(text) is intent


@pytest.mark.parametrize(
    "text",
    [
        "нас 5 человек",
        "группа 12 человек, есть места?",
        "Можно ли отменить бронь и вернуть деньги?",
        "Как вернуть деньги, если я отменю поездку?",
        "как отменить бронирование?",
        "можно перенести тур на другую дату?",
        "Как оплатить тур?",
        "самая дешевая экскурсия",
        "если будет дождь, тур отменят?",
        "Казань для фотографов — сколько стоит?",
        "сколько будет стоить на 3 человек кремль",
        "за сколько можно отменить бронь без потери денег?",
        # The visitor late for the trip: the no-show rule answers, not a complaint.
        "мы опоздали на автобус, что теперь с деньгами",
        "я опоздала на экскурсию",
        # The company calling the trip off is its rule, not a change to one's booking.
        "если вы отмените тур из-за погоды, что с деньгами?",
        "опоздали к отправлению, вернут что-то?",
    ],
)
def test_questions_and_head_counts_are_not_handed_off(text):
    assert needs_person(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Какая погода будет в Казани в субботу?",
        "кто победит на выборах",
        "что думаешь о президенте",
        "какой курс доллара",
        "расскажи анекдот",
        "дай рецепт борща",
        "реши уравнение x+2=5",
    ],
)
def test_off_topic_questions(text):
    assert classify(text) is Intent.OFF_TOPIC


@pytest.mark.parametrize(
    "text",
    [
        # Getting to the region: every tour starts there, the chat knows no trains or flights.
        "сколько ехать от москвы до казани",
        "как добраться до Казани на поезде из Питера?",
        "где купить билеты на самолёт в казань",
        "как к вам доехать из самары",
        "сколько до вас ехать от нижнего новгорода",
        # Where to stay in the city: not a tour's hotel.
        "какой отель в казани лучше",
        "где остановиться в Казани на пару ночей",
        "посоветуйте гостиницу рядом с кремлём",
    ],
)
def test_travel_to_the_region_and_the_citys_hotels_are_outside_the_chat(text):
    assert classify(text) is Intent.OFF_TOPIC


@pytest.mark.parametrize(
    "text",
    [
        "как добраться до Свияжска",  # a tour's place: its transfer
        "сколько ехать до болгара",
        "приехали в казань на выходные, что посмотреть?",
        "есть тур из москвы в казань?",
        "как к вам добраться?",  # to us: the meeting point
        "до вас от метро далеко идти?",
        "как попасть к вам из аэропорта",
        "а гостиница входит в цену?",
        "какая гостиница в туре в елабугу",
        "экскурсия с обедом в ресторане есть?",
    ],
)
def test_a_trip_or_a_tours_hotel_is_not_travel_logistics(text):
    assert classify(text) is None


@pytest.mark.parametrize(
    "text",
    [
        # Facts of the city and its sights no tour's data holds.
        "сколько лет казани?",
        "кто построил казанский кремль",
        "в каком году основали свияжск",
        "когда была построена мечеть кул-шариф",
        "какое население в казани",
        "почему город так назвали",
        # Translating.
        "переведи на английский «добро пожаловать»",
        "как по-татарски будет спасибо",
        "как сказать «привет» на татарском",
    ],
)
def test_city_trivia_and_translation_are_outside_the_chat(text):
    assert classify(text) is Intent.OFF_TOPIC


@pytest.mark.parametrize(
    "text",
    [
        "экскурсии на английском проводите?",
        "какая экскурсия расскажет, кто построил кремль",
        "сколько лет ребёнку можно в иннополис",
        "сколько человек в группе на экскурсии",
    ],
)
def test_a_language_or_a_sight_in_a_tour_question_is_ours(text):
    assert classify(text) is None


def test_greetings_and_thanks_alone():
    assert classify("Здравствуйте!") is Intent.GREETING
    assert classify("добрый день") is Intent.GREETING
    assert classify("Спасибо большое!") is Intent.THANKS
    assert classify("Здравствуйте, какие туры в июне?") is None
