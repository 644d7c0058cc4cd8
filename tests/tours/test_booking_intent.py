"""Reading a clear booking request in Russian (the offline answerer's card)."""

from __future__ import annotations

from datetime import date

import pytest

from ai.booking_intent import read_booking_ask

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "participants", "day"),
    [
        ("Хочу забронировать на двоих 21 декабря, можно?", 2, date(2026, 12, 21)),
        ("Забронируйте 3 человека на 14.03", 3, date(2027, 3, 14)),
        ("Нас трое, хотим записаться", 3, None),
        ("Бронь на 4 взрослых 5-го января", 4, date(2027, 1, 5)),
        ("забронировать на одного", 1, None),
        ("Забронируйте 3 места на 7 января", 3, date(2027, 1, 7)),  # a place each
        ("Запишите двоих на 16 декабря", 2, date(2026, 12, 16)),  # the verb's object
        ("забронируйте нас троих", 3, None),
    ],
)
def test_a_booking_word_and_a_head_count_make_a_request(text, participants, day):
    ask = read_booking_ask(text, TODAY)
    assert ask is not None
    assert (ask.participants, ask.day) == (participants, day)


@pytest.mark.parametrize(
    "text",
    [
        "Как забронировать тур?",
        "Забронировать на 21 декабря",  # no head count
        "Хотим в Свияжск на двоих",  # no booking word
        "Позовите оператора",
        "Отмените бронь TT-ABC234",
    ],
)
def test_anything_less_clear_is_no_request(text):
    assert read_booking_ask(text, TODAY) is None
