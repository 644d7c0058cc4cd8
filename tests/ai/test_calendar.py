"""Russian calendar facts: official days off, holiday periods, relative and named dates."""

from __future__ import annotations

from datetime import date

import pytest

from ai.calendar import days_off_around, holiday_period, period_in, periods_in, upcoming_holidays

# Tuesday 1 December 2026: the holidays package knows the 2026 and 2027 decrees.
TUESDAY = date(2026, 12, 1)


def span(text: str, today: date = TUESDAY) -> tuple[date, date]:
    period = period_in(text, today)
    assert period is not None, f"no period read from {text!r}"
    return period.start, period.end


def test_may_holidays_are_the_real_runs_of_days_off_of_that_year():
    # 2025: 1-4 May and 8-11 May (the decree moved 2 and 8 May); 2027: 1-3 and 8-10 May.
    assert holiday_period("may", date(2025, 4, 1)).spans == (
        (date(2025, 5, 1), date(2025, 5, 4)),
        (date(2025, 5, 8), date(2025, 5, 11)),
    )
    assert holiday_period("may", TUESDAY).spans == (
        (date(2027, 5, 1), date(2027, 5, 3)),
        (date(2027, 5, 8), date(2027, 5, 10)),
    )


def test_new_year_holidays_include_the_transferred_days_off():
    # 31 December 2026 is a day off by the 2027 decree, 9-10 January a weekend.
    assert days_off_around(date(2027, 1, 1)) == (date(2026, 12, 31), date(2027, 1, 10))
    assert span("куда сходить на новогодних праздниках") == (date(2026, 12, 31), date(2027, 1, 10))


def test_a_holiday_under_way_starts_today():
    period = holiday_period("new_year", date(2027, 1, 5))
    assert (period.start, period.end) == (date(2027, 1, 5), date(2027, 1, 10))


def test_upcoming_holidays_lists_the_named_periods_ahead_soonest_first():
    with_labels = [(p.label, p.start) for p in upcoming_holidays(TUESDAY, days=100)]
    assert with_labels == [
        ("новогодние праздники", date(2026, 12, 31)),
        ("День защитника Отечества", date(2027, 2, 21)),
        ("Международный женский день", date(2027, 3, 6)),
    ]
    assert upcoming_holidays(TUESDAY, days=10) == []


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("какие экскурсии в эти выходные?", date(2026, 12, 5), date(2026, 12, 6)),
        ("что есть на выходных", date(2026, 12, 5), date(2026, 12, 6)),
        ("на следующих выходных", date(2026, 12, 12), date(2026, 12, 13)),
        ("сегодня есть экскурсии?", TUESDAY, TUESDAY),
        ("а завтра?", date(2026, 12, 2), date(2026, 12, 2)),
        ("послезавтра", date(2026, 12, 3), date(2026, 12, 3)),
        ("на этой неделе", TUESDAY, date(2026, 12, 6)),
        ("на следующей неделе", date(2026, 12, 7), date(2026, 12, 13)),
        ("через две недели", date(2026, 12, 14), date(2026, 12, 20)),
        ("через 3 дня", date(2026, 12, 4), date(2026, 12, 4)),
        ("в субботу", date(2026, 12, 5), date(2026, 12, 5)),
        ("в следующую субботу", date(2026, 12, 12), date(2026, 12, 12)),
        ("до конца месяца", TUESDAY, date(2026, 12, 31)),
        ("в следующем месяце", date(2027, 1, 1), date(2027, 1, 31)),
    ],
)
def test_relative_dates_become_date_ranges(text, first, last):
    assert span(text) == (first, last)


def test_a_weekend_joined_to_days_off_is_one_stretch():
    # Thursday 30 April 2026: 1 May is a Friday, so "в эти выходные" is 1-3 May.
    assert span("в эти выходные", date(2026, 4, 30)) == (date(2026, 5, 1), date(2026, 5, 3))
    # On a Sunday "these weekend days" are today only.
    assert span("в эти выходные", date(2026, 12, 6)) == (date(2026, 12, 6), date(2026, 12, 6))


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("что будет 8 марта", date(2027, 3, 6), date(2027, 3, 8)),
        ("на 23 февраля", date(2027, 2, 21), date(2027, 2, 23)),
        ("на майские", date(2027, 5, 1), date(2027, 5, 10)),
        ("в день России", date(2027, 6, 12), date(2027, 6, 14)),
        ("4 ноября", date(2027, 11, 4), date(2027, 11, 7)),
        ("экскурсия 15 января", date(2027, 1, 15), date(2027, 1, 15)),
        ("с 10 по 15 июля", date(2027, 7, 10), date(2027, 7, 15)),
        ("на 12.12", date(2026, 12, 12), date(2026, 12, 12)),
        ("в июне", date(2027, 6, 1), date(2027, 6, 30)),
        ("в декабре", TUESDAY, date(2026, 12, 31)),
        ("туры летом", date(2027, 6, 1), date(2027, 8, 31)),
        ("зимой", TUESDAY, date(2027, 2, 28)),
    ],
)
def test_holidays_days_months_and_seasons(text, first, last):
    assert span(text) == (first, last)


@pytest.mark.parametrize(
    "text",
    ["ребенку 8 лет", "маяк", "самая дешевая экскурсия", "нас 5 человек", "Ыщщ", "на выбор"],
)
def test_words_that_are_not_dates_name_no_period(text):
    assert periods_in(text, TUESDAY) == []


def test_a_holiday_wins_over_its_own_month():
    # "8 марта" is the holiday's days off, not the whole of March.
    assert [p.kind for p in periods_in("туры на 8 марта", TUESDAY)] == ["holiday"]


def test_the_next_n_days():
    assert span("в ближайшие 10 дней что-нибудь") == (TUESDAY, date(2026, 12, 11))
    assert span("в ближайшие дни") == (TUESDAY, date(2026, 12, 8))


@pytest.mark.parametrize(
    ("text", "label"),
    [("что есть в эту субботу", "в субботу"), ("во вторник", "во вторник"), ("на июль", "в июле")],
)
def test_weekdays_and_months_are_said_as_when(text, label):
    period = period_in(text, TUESDAY)
    assert period is not None and period.label == label


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        # From a day on: "после" the day after, "с"/"начиная с" the day itself; open-ended.
        ("туры после 20 декабря", date(2026, 12, 21), date(2027, 6, 19)),
        ("что есть с 5 января", date(2027, 1, 5), date(2027, 7, 4)),
        ("начиная с 3 февраля", date(2027, 2, 3), date(2027, 8, 2)),
        # Up to a day: from today.
        ("до 10 января что-нибудь есть?", TUESDAY, date(2027, 1, 10)),
        ("не позже 20 декабря", TUESDAY, date(2026, 12, 20)),
        # A third of a month.
        ("в начале января", date(2027, 1, 1), date(2027, 1, 10)),
        ("в середине февраля", date(2027, 2, 11), date(2027, 2, 20)),
        ("в конце декабря", date(2026, 12, 21), date(2026, 12, 31)),
        ("в конце февраля", date(2027, 2, 21), date(2027, 2, 28)),
        # A range stays a range, a day a day.
        ("с 20 по 25 декабря", date(2026, 12, 20), date(2026, 12, 25)),
        ("на 24 декабря", date(2026, 12, 24), date(2026, 12, 24)),
    ],
)
def test_open_ended_days_and_parts_of_a_month(text, first, last):
    # "после 20 декабря" read as the 20th alone answered "Туров на 20 декабря нет".
    assert span(text) == (first, last)


def test_a_past_part_of_this_month_is_next_years():
    assert span("в начале декабря", date(2026, 12, 15)) == (date(2027, 12, 1), date(2027, 12, 10))
    assert span("в конце декабря", date(2026, 12, 28)) == (date(2026, 12, 28), date(2026, 12, 31))
