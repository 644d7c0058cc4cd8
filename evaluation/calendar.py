"""The scorer's own date words: "this weekend", "holiday:may" -> a date range from today.

Deliberately independent of the code under test (ai/ has its own calendar):
the scorer judges it, so it must not share its mistakes. Small and explicit;
the definitions are documented in docs/ai.md ("Evaluation").

Expressions (all ranges inclusive, never before today):

- `today`, `tomorrow`
- `this_weekend`: the coming Saturday and Sunday (today included when it is one)
- `this_week`: today to Sunday; `next_week`: next Monday to Sunday
- `in_two_weeks`: the Monday-to-Sunday week holding today + 14 days
- `within_days:N`: today to today + N
- `this_month`, `next_month`
- `month:M` (1-12): the next such month (the rest of it, if it is this one)
- `season:winter|spring|summer|autumn`: Dec-Feb, Mar-May, Jun-Aug, Sep-Nov, the next one
- `holiday:NAME`: the next occurrence of a Russian public holiday's days off:
  `new_year` 31 Dec-8 Jan, `christmas` 25 Dec-8 Jan (both Christmases and the
  festive days between), `may` 1-11 May, each run on into a weekend that
  directly follows it, and `feb23`, `mar8`, `jun12`,
  `nov4`: the day itself widened to the weekend it touches, bridges
  included (a Tuesday holiday makes Saturday to Tuesday, as the yearly
  decree usually moves the Monday off; a Thursday one Thursday to Sunday).
  Lenient on purpose: the decree changes every year, and a scorer that
  made the holiday too short would call right answers wrong.
"""

from __future__ import annotations

from datetime import date, timedelta

SEASONS = {"winter": (12, 1, 2), "spring": (3, 4, 5), "summer": (6, 7, 8), "autumn": (9, 10, 11)}
# Fixed-date holidays widened to their weekend: (month, day).
ONE_DAY_HOLIDAYS = {"feb23": (2, 23), "mar8": (3, 8), "jun12": (6, 12), "nov4": (11, 4)}
# Spans: (start month, start day, end month, end day); end before start: over New Year.
SPAN_HOLIDAYS = {"new_year": (12, 31, 1, 8), "christmas": (12, 25, 1, 8), "may": (5, 1, 5, 11)}
_SIMPLE = {
    "today", "tomorrow", "this_weekend", "this_week", "next_week", "in_two_weeks",
    "this_month", "next_month",
}  # fmt: skip

DateRange = tuple[date, date]


def check(expression: str) -> None:
    """Raise ValueError if `expression` is not one the scorer can resolve."""
    resolve(expression, date(2026, 1, 1))


def resolve(expression: str, today: date) -> DateRange:
    kind, _, argument = expression.partition(":")
    if expression in _SIMPLE:
        return _simple(expression, today)
    if kind == "within_days" and argument.isdigit():
        return today, today + timedelta(days=int(argument))
    if kind == "month" and argument.isdigit() and 1 <= int(argument) <= 12:
        return _month(int(argument), today)
    if kind == "season" and argument in SEASONS:
        return _season(SEASONS[argument], today)
    if kind == "holiday" and argument in ONE_DAY_HOLIDAYS:
        return _one_day_holiday(*ONE_DAY_HOLIDAYS[argument], today)
    if kind == "holiday" and argument in SPAN_HOLIDAYS:
        return _span(*SPAN_HOLIDAYS[argument], today)
    raise ValueError(f"unknown date expression {expression!r}")


def _simple(expression: str, today: date) -> DateRange:
    weekday = today.weekday()  # Monday 0 ... Sunday 6
    sunday = today + timedelta(days=6 - weekday)
    if expression == "today":
        return today, today
    if expression == "tomorrow":
        return today + timedelta(days=1), today + timedelta(days=1)
    if expression == "this_weekend":
        return max(today, sunday - timedelta(days=1)), sunday
    if expression == "this_week":
        return today, sunday
    if expression == "next_week":
        return sunday + timedelta(days=1), sunday + timedelta(days=7)
    if expression == "in_two_weeks":
        target = today + timedelta(days=14)
        monday = target - timedelta(days=target.weekday())
        return monday, monday + timedelta(days=6)
    if expression == "this_month":
        return today, _month_end(today.year, today.month)
    # next_month
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return date(year, month, 1), _month_end(year, month)


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def _month(month: int, today: date) -> DateRange:
    year = today.year if month >= today.month else today.year + 1
    return max(today, date(year, month, 1)), _month_end(year, month)


def _season(months: tuple[int, int, int], today: date) -> DateRange:
    first, _, last = months
    # Winter starts in December of one year and ends in February of the next.
    for start_year in (today.year - 1, today.year, today.year + 1):
        start = date(start_year, first, 1)
        end_year = start_year + 1 if last < first else start_year
        end = _month_end(end_year, last)
        if end >= today:
            return max(today, start), end
    raise AssertionError("unreachable: a season ends within two years")


def _one_day_holiday(month: int, day: int, today: date) -> DateRange:
    for year in (today.year, today.year + 1):
        holiday = date(year, month, day)
        start, end = holiday, holiday
        weekday = holiday.weekday()
        if weekday == 0:  # Monday: Saturday to Monday
            start = holiday - timedelta(days=2)
        elif weekday == 1:  # Tuesday, the Monday bridged: Saturday to Tuesday
            start = holiday - timedelta(days=3)
        elif weekday == 3:  # Thursday, the Friday bridged: Thursday to Sunday
            end = holiday + timedelta(days=3)
        elif weekday == 4:  # Friday: Friday to Sunday
            end = holiday + timedelta(days=2)
        elif weekday == 5:  # Saturday: Saturday and Sunday
            end = holiday + timedelta(days=1)
        elif weekday == 6:  # Sunday: Saturday and Sunday
            start = holiday - timedelta(days=1)
        if end >= today:
            return max(today, start), end
    raise AssertionError("unreachable: a holiday comes every year")


def _span(start_month: int, start_day: int, end_month: int, end_day: int, today: date) -> DateRange:
    for year in (today.year - 1, today.year, today.year + 1):
        start = date(year, start_month, start_day)
        end_year = year + 1 if (end_month, end_day) < (start_month, start_day) else year
        end = date(end_year, end_month, end_day)
        # A weekend right after the run is part of it (2027: 1-8 January runs
        # into Saturday 9 and Sunday 10), as for the one-day holidays above.
        while (end + timedelta(days=1)).weekday() >= 5:
            end += timedelta(days=1)
        if end >= today:
            return max(today, start), end
    raise AssertionError("unreachable: a holiday comes every year")
