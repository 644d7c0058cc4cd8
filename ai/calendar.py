"""Russian calendar facts for both answer paths: holidays, named periods, relative dates.

The official days off come from the `holidays` package (`holidays.RU`, the
government's calendar with its transferred days off), so "на майские" is
the real block of days off of that year, not a guess. A holiday's period is
the whole run of consecutive days off around it (1-4 May 2025 and 8-11 May
2025), since that is when people travel.

`periods_in(text, today)` reads the time a question names: a holiday
(новогодние праздники, майские, 23 февраля, 8 марта, 12 июня, 4 ноября), a
relative date (сегодня, завтра, в эти выходные, на следующей неделе, через
две недели, в субботу), a day of a month (15 июня, с 10 по 15 июля), a
month (в июне) or a season (летом). `upcoming_holidays(today, days)` lists
the holiday periods ahead, for the model's prompt. Everything is pure and
takes `today` explicitly, so both paths and the tests agree on any day.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

Span = tuple[date, date]


@dataclass(frozen=True)
class Period:
    """A named stretch of time: one or more inclusive date spans.

    `kind` is "holiday", "relative", "day", "range" (up to a day, a part of a
    month), "from" (from a day on, open-ended), "month" or "season"; `label` is
    the Russian name the answer repeats ("майские праздники").
    """

    label: str
    spans: tuple[Span, ...]
    kind: str

    @property
    def start(self) -> date:
        return min(span[0] for span in self.spans)

    @property
    def end(self) -> date:
        return max(span[1] for span in self.spans)

    def contains(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.spans)

    def overlaps(self, first: date, last: date) -> bool:
        return any(
            first <= span_last and span_first <= last for span_first, span_last in self.spans
        )


# --- the official calendar -----------------------------------------------------------------


@cache
def _official(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("RU", years=[year - 1, year, year + 1])


def is_day_off(day: date) -> bool:
    """A public holiday, a transferred day off or a weekend that is not a transferred workday."""
    return not _official(day.year).is_working_day(day)


def days_off_around(day: date) -> Span:
    """The run of consecutive days off containing `day` (the day itself if it is a workday)."""
    first = last = day
    while is_day_off(first - timedelta(days=1)):
        first -= timedelta(days=1)
    while is_day_off(last + timedelta(days=1)):
        last += timedelta(days=1)
    return first, last


@dataclass(frozen=True)
class _Holiday:
    key: str
    month: int
    days: tuple[int, ...]  # the official holiday's days; the period is their runs of days off


# Keys are stable identifiers; labels are translated at call time.
_HOLIDAYS: tuple[_Holiday, ...] = (
    _Holiday("new_year", 1, (1, 2, 3, 4, 5, 6, 7, 8)),
    _Holiday("defender", 2, (23,)),
    _Holiday("women", 3, (8,)),
    _Holiday("may", 5, (1, 9)),
    _Holiday("russia", 6, (12,)),
    _Holiday("unity", 11, (4,)),
)


def _holiday_label(key: str) -> str:
    labels = {
        "new_year": _("New Year holidays"),
        "defender": _("Defender of the Fatherland Day"),
        "women": _("International Women's Day"),
        "may": _("May holidays"),
        "russia": _("Russia Day"),
        "unity": _("Unity Day"),
    }
    return labels[key]


def _holiday_spans(holiday: _Holiday, year: int) -> tuple[Span, ...]:
    spans: list[Span] = []
    for number in holiday.days:
        span = days_off_around(date(year, holiday.month, number))
        if not spans or span[0] > spans[-1][1] + timedelta(days=1):
            spans.append(span)
        else:
            spans[-1] = (spans[-1][0], max(spans[-1][1], span[1]))
    return tuple(spans)


def holiday_period(key: str, today: date) -> Period:
    """The coming occurrence of a holiday (this year's while it lasts, else next year's)."""
    holiday = next(h for h in _HOLIDAYS if h.key == key)
    for year in (today.year, today.year + 1):
        spans = _holiday_spans(holiday, year)
        if spans[-1][1] >= today:
            kept = tuple((max(first, today), last) for first, last in spans if last >= today)
            return Period(_holiday_label(key), kept, "holiday")
    raise AssertionError("unreachable: next year's holiday is always ahead")  # pragma: no cover


def upcoming_holidays(today: date, days: int = 90) -> list[Period]:
    """Holiday periods that start or last within `days` from `today`, soonest first."""
    horizon = today + timedelta(days=days)
    found = [holiday_period(h.key, today) for h in _HOLIDAYS]
    return sorted((p for p in found if p.start <= horizon), key=lambda p: p.start)


# --- reading a question ---------------------------------------------------------------------

_MONTH_STEMS: tuple[tuple[str, int], ...] = (
    ("январ", 1),
    ("феврал", 2),
    ("март", 3),
    ("апрел", 4),
    ("ма", 5),
    ("июн", 6),
    ("июл", 7),
    ("август", 8),
    ("сентябр", 9),
    ("октябр", 10),
    ("ноябр", 11),
    ("декабр", 12),
)
# A month's own forms: "май/мая/мае", not "маяк" or "майские".
_MONTH_WORD = re.compile(
    r"\b(январ[ьяеюё]\w*|феврал[ьяеюё]\w*|март[ауе]?|мартом|апрел[ьяеюё]\w*|ма[йяею]|маем|"
    r"июн[ьяеюё]\w*|июл[ьяеюё]\w*|август[ауе]?|августом|сентябр[ьяеюё]\w*|октябр[ьяеюё]\w*|"
    r"ноябр[ьяеюё]\w*|декабр[ьяеюё]\w*)\b"
)
_MONTH_NAMES = (
    "январ[ьяею]|феврал[ьяею]|марта?|апрел[ьяею]|ма[йя]|июн[ьяею]|июл[ьяею]|августа?|"
    "сентябр[ьяею]|октябр[ьяею]|ноябр[ьяею]|декабр[ьяею]"
)
_DAY_RANGE = re.compile(
    rf"\b(?:с\s+)?(\d{{1,2}})\s*(?:-|–|—|по|до)\s*(\d{{1,2}})\s+({_MONTH_NAMES})\b"
)
# "20 декабря", "5-го мая": a day's number (group "day") and its month's word ("month").
_A_DAY = rf"(?P<day>\d{{1,2}})(?:-?го)?\s+(?P<month>{_MONTH_NAMES})\b"
_DAY_OF_MONTH = re.compile(rf"\b{_A_DAY}")
# "после 20 декабря", "с 5 января", "начиная с 3 мая": from that day on (after it for "после").
_FROM_DAY = re.compile(rf"\b(?P<word>после|начиная\s+с|с|со|от)\s+{_A_DAY}")
# "до 10 января", "не позже 5 мая": from today up to that day.
_UNTIL_DAY = re.compile(rf"\b(?:до|не\s+позже|не\s+позднее)\s+{_A_DAY}")
# "в начале января", "в середине мая", "в конце декабря": a third of the month.
_PART_OF_MONTH = re.compile(rf"\b(начал\w*|середин\w*|конц\w*|кон[её]ц)\s+({_MONTH_NAMES})\b")
# How far "после 20 декабря" looks: a season of the catalogue, not forever.
OPEN_END_DAYS = 180
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})(?:\.(\d{2,4}))?\b")

_SEASONS: tuple[tuple[re.Pattern[str], tuple[int, int, int]], ...] = (
    # (pattern, (first month, months, key)); "лет" alone is an age, never summer,
    # and so is "летний" after a number ("с 10-летним сыном", "7 летний").
    (re.compile(r"(?<!\d-)(?<!\d\s)(?<!\d)\b(летом|лето|летн\w+)\b"), (6, 3, 0)),
    (re.compile(r"\b(осенью|осень|осенн\w+)\b"), (9, 3, 1)),
    (re.compile(r"\b(зимой|зима|зиму|зимн\w+)\b"), (12, 3, 2)),
    (re.compile(r"\b(весной|весна|весну|весенн\w+)\b"), (3, 3, 3)),
)

_HOLIDAY_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(новогодн\w*|нов\w*\s+год\w*|рождеств\w*|январск\w*\s+(праздник|каникул)\w*"
            r"|каникул\w*\s+в\s+январе)"
        ),
        "new_year",
    ),
    (re.compile(r"\b(23\s+феврал\w*|день\s+защитник\w*|защитник\w*\s+отечеств\w*)"), "defender"),
    (re.compile(r"\b(8\s+марта|восьм\w*\s+марта|женск\w*\s+д\w*)"), "women"),
    (re.compile(r"\b(майск\w*|1\s+мая|9\s+мая|день\s+победы|первомай\w*)"), "may"),
    (re.compile(r"\b(12\s+июня|день\s+росси\w*)"), "russia"),
    (re.compile(r"\b(4\s+ноября|день\s+народн\w*\s+единств\w*|день\s+единств\w*)"), "unity"),
)

_NUMBERS = {
    "одну": 1,
    "один": 1,
    "одна": 1,
    "пару": 2,
    "два": 2,
    "две": 2,
    "три": 3,
    "четыре": 4,
    "пять": 5,
    "шесть": 6,
    "семь": 7,
    "десять": 10,
}
_NEXT_N_DAYS = re.compile(r"\bближайш\w*\s+(\d{1,3})\s*(?:-?х\s+)?(дн\w*|недел\w*)")
_IN_N = re.compile(
    r"\bчерез\s+(\d{1,3}|одну|один|пару|два|две|три|четыре|пять|шесть|семь|десять)?\s*"
    r"(день|дня|дней|недел\w*|месяц\w*)"
)
_WEEKDAYS = (
    ("понедельник", 0),
    ("вторник", 1),
    ("сред", 2),
    ("четверг", 3),
    ("пятниц", 4),
    ("суббот", 5),
    ("воскресень", 6),
)
_WEEKDAY = re.compile(
    r"\b(?:в|во|на)\s+(?:(эт\w+|ближайш\w+|следующ\w+)\s+)?"
    r"(понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье)\b"
)
_RELATIVE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bпослезавтра\b"), "after_tomorrow"),
    (re.compile(r"\bближайш\w*\s+(?:пару\s+|несколько\s+)?дн\w*"), "few_days"),
    (re.compile(r"\bближайш\w*\s+недел\w*"), "seven_days"),
    (re.compile(r"\bближайш\w*\s+месяц\w*"), "thirty_days"),
    (re.compile(r"\bзавтра(шн\w*)?\b"), "tomorrow"),
    (re.compile(r"\b(сегодня|сегодняшн\w*|сейчас\s+идет)\b"), "today"),
    (re.compile(r"\bследующ\w*\s+выходн\w*|выходн\w*\s+через\s+неделю"), "next_weekend"),
    (re.compile(r"\bвыходн\w*|уикенд\w*|викенд\w*"), "weekend"),
    (re.compile(r"\b(следующ\w*|будущ\w*)\s+недел\w*"), "next_week"),
    (re.compile(r"\b(эт\w*|текущ\w*)\s+недел\w*|\bдо\s+конца\s+недели"), "this_week"),
    (re.compile(r"\b(следующ\w*|будущ\w*)\s+месяц\w*"), "next_month"),
    (re.compile(r"\b(эт\w*|текущ\w*)\s+месяц\w*|\bдо\s+конца\s+месяца"), "this_month"),
    (re.compile(r"\bдо\s+конца\s+года|\bв\s+этом\s+году"), "this_year"),
    (re.compile(r"\b(следующ\w*|будущ\w*)\s+году"), "next_year"),
)


def on_weekday(weekday: int) -> str:
    """ "в субботу": the weekday as the answer says when (0 is Monday)."""
    names = (
        _("on Monday"),
        _("on Tuesday"),
        _("on Wednesday"),
        _("on Thursday"),
        _("on Friday"),
        _("on Saturday"),
        _("on Sunday"),
    )
    return names[weekday]


def in_month(month: int) -> str:
    """ "в декабре": the month as the answer says when."""
    names = (
        _("in January"),
        _("in February"),
        _("in March"),
        _("in April"),
        _("in May"),
        _("in June"),
        _("in July"),
        _("in August"),
        _("in September"),
        _("in October"),
        _("in November"),
        _("in December"),
    )
    return names[month - 1]


def normalize(text: str) -> str:
    return text.lower().replace("ё", "е")


def month_span(month: int, today: date) -> Span:
    """The coming occurrence of `month`: this year's while it lasts, else next year's."""
    year = today.year if month >= today.month else today.year + 1
    last = date(year, month, _stdlib_calendar.monthrange(year, month)[1])
    return max(date(year, month, 1), today), last


def _month_number(word: str) -> int | None:
    for stem, number in _MONTH_STEMS:
        if word.startswith(stem):
            return number
    return None


def _coming_day(month: int, day: int, today: date) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def _week(monday: date) -> Span:
    return monday, monday + timedelta(days=6)


def _weekend(today: date, *, next_one: bool = False) -> Span:
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    if today.weekday() == 6:  # Sunday: "в эти выходные" is today
        saturday = today - timedelta(days=1)
    if next_one:
        saturday += timedelta(days=7)
    first, last = max(saturday, today), saturday + timedelta(days=1)
    # A weekend joined to holidays (a Friday off, a Monday off) is one stretch off.
    run = days_off_around(saturday)
    return max(min(first, run[0]), today), max(last, run[1])


def _relative(key: str, today: date) -> Period:
    monday = today - timedelta(days=today.weekday())
    if key == "today":
        return Period(_("today"), ((today, today),), "relative")
    if key in {"few_days", "seven_days", "thirty_days"}:
        days = {"few_days": 7, "seven_days": 7, "thirty_days": 30}[key]
        label = ngettext("in the next %(n)d day", "in the next %(n)d days", days) % {"n": days}
        return Period(label, ((today, today + timedelta(days=days)),), "relative")
    if key == "tomorrow":
        day = today + timedelta(days=1)
        return Period(_("tomorrow"), ((day, day),), "relative")
    if key == "after_tomorrow":
        day = today + timedelta(days=2)
        return Period(_("the day after tomorrow"), ((day, day),), "relative")
    if key == "weekend":
        return Period(_("this weekend"), (_weekend(today),), "relative")
    if key == "next_weekend":
        return Period(_("next weekend"), (_weekend(today, next_one=True),), "relative")
    if key == "this_week":
        return Period(_("this week"), ((today, monday + timedelta(days=6)),), "relative")
    if key == "next_week":
        return Period(_("next week"), (_week(monday + timedelta(days=7)),), "relative")
    if key == "this_month":
        last = date(
            today.year, today.month, _stdlib_calendar.monthrange(today.year, today.month)[1]
        )
        return Period(_("this month"), ((today, last),), "relative")
    if key == "next_month":
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        return Period(_("next month"), (month_span(first.month, first),), "relative")
    if key == "this_year":
        return Period(_("this year"), ((today, date(today.year, 12, 31)),), "relative")
    if key == "next_year":
        year = today.year + 1
        return Period(_("next year"), ((date(year, 1, 1), date(year, 12, 31)),), "relative")
    raise ValueError(key)


def _in_n(amount: int, unit: str, today: date) -> Period:
    """ "через 3 дня": that day; "через две недели": that week; "через месяц": a week then."""
    if unit.startswith("д"):
        day = today + timedelta(days=amount)
        label = ngettext("in %(n)d day", "in %(n)d days", amount) % {"n": amount}
        return Period(label, ((day, day),), "relative")
    days = 7 * amount if unit.startswith("недел") else 30 * amount
    target = today + timedelta(days=days)
    monday = target - timedelta(days=target.weekday())
    label = (
        ngettext("in %(n)d week", "in %(n)d weeks", amount) % {"n": amount}
        if unit.startswith("недел")
        else ngettext("in %(n)d month", "in %(n)d months", amount) % {"n": amount}
    )
    return Period(label, (_week(monday),), "relative")


def _season(first_month: int, key: int, today: date) -> Period:
    labels = (_("summer"), _("autumn"), _("winter"), _("spring"))
    for year in (today.year - 1, today.year, today.year + 1):
        first = date(year, first_month, 1)
        last_month_first = (first + timedelta(days=62)).replace(day=1)
        end_year, end_month = last_month_first.year, last_month_first.month
        last = date(end_year, end_month, _stdlib_calendar.monthrange(end_year, end_month)[1])
        if last >= today:
            return Period(labels[key], ((max(first, today), last),), "season")
    raise AssertionError("unreachable")  # pragma: no cover


def periods_in(text: str, today: date) -> list[Period]:
    """Every time the text names, in the order of the checks (most specific first).

    Holidays win over their own month ("8 марта" is the holiday, not March);
    explicit days over months; relative dates and weekdays over seasons.
    """
    lowered = normalize(text)
    found: list[Period] = []
    consumed = lowered
    for pattern, key in _HOLIDAY_WORDS:
        match = pattern.search(consumed)
        if match:
            found.append(holiday_period(key, today))
            consumed = consumed[: match.start()] + " " + consumed[match.end() :]
    for match in _DAY_RANGE.finditer(consumed):
        month = _month_number(match.group(3))
        first_day, last_day = int(match.group(1)), int(match.group(2))
        if month and 1 <= first_day <= last_day <= 31:
            start = _coming_day(month, first_day, today)
            end = _coming_day(month, last_day, start or today)
            if start and end:
                label = f"{start.day}–{date_format(end, 'j E')}"
                found.append(Period(label, ((start, end),), "day"))
    consumed = _DAY_RANGE.sub(" ", consumed)
    for match in _FROM_DAY.finditer(consumed):
        day = _named_day(match, today)
        if day:
            first = day + timedelta(days=1) if match.group("word") == "после" else day
            label = f"{match.group('word')} {date_format(day, 'j E')}"
            span = (first, first + timedelta(days=OPEN_END_DAYS))
            found.append(Period(label, (span,), "from"))
    consumed = _FROM_DAY.sub(" ", consumed)
    for match in _UNTIL_DAY.finditer(consumed):
        day = _named_day(match, today)
        if day:
            found.append(Period(f"до {date_format(day, 'j E')}", ((today, day),), "range"))
    consumed = _UNTIL_DAY.sub(" ", consumed)
    for match in _PART_OF_MONTH.finditer(consumed):
        month = _month_number(match.group(2))
        if month:
            found.append(_part_of_month(match.group(1), month, today))
    consumed = _PART_OF_MONTH.sub(" ", consumed)
    for match in _DAY_OF_MONTH.finditer(consumed):
        day = _named_day(match, today)
        if day:
            found.append(Period(date_format(day, "j E"), ((day, day),), "day"))
    consumed = _DAY_OF_MONTH.sub(" ", consumed)
    for match in _NUMERIC_DATE.finditer(consumed):
        day_number, month = int(match.group(1)), int(match.group(2))
        day = _coming_day(month, day_number, today) if 1 <= month <= 12 else None
        if day:
            found.append(Period(date_format(day, "j E"), ((day, day),), "day"))
    for match in _NEXT_N_DAYS.finditer(consumed):
        count = int(match.group(1))
        days = count * 7 if match.group(2).startswith("недел") else count
        if 0 < days <= 400:
            label = ngettext("in the next %(n)d day", "in the next %(n)d days", days) % {"n": days}
            found.append(Period(label, ((today, today + timedelta(days=days)),), "relative"))
    consumed = _NEXT_N_DAYS.sub(" ", consumed)
    for pattern, key in _RELATIVE:
        match = pattern.search(consumed)
        if match:
            found.append(_relative(key, today))
            consumed = consumed[: match.start()] + " " + consumed[match.end() :]
    for match in _IN_N.finditer(consumed):
        raw = match.group(1)
        amount = int(raw) if raw and raw.isdigit() else _NUMBERS.get(raw or "", 1)
        if 0 < amount <= 400:
            found.append(_in_n(amount, match.group(2), today))
    consumed = _IN_N.sub(" ", consumed)
    for match in _WEEKDAY.finditer(consumed):
        which, name = match.group(1) or "", match.group(2)
        weekday = next(n for stem, n in _WEEKDAYS if name.startswith(stem))
        day = today + timedelta(days=(weekday - today.weekday()) % 7)
        if which.startswith("следующ"):
            day += timedelta(days=7)
        found.append(Period(on_weekday(weekday), ((day, day),), "relative"))
    for match in _MONTH_WORD.finditer(consumed):
        month = _month_number(match.group(1))
        if month:
            span = month_span(month, today)
            found.append(Period(in_month(month), (span,), "month"))
    for season, (first_month, _months, index) in _SEASONS:
        if season.search(consumed):
            found.append(_season(first_month, index, today))
    return found


def _named_day(match: re.Match[str], today: date) -> date | None:
    """The coming date of an `_A_DAY` match ("20 декабря"), if it is a real day."""
    month = _month_number(match.group("month"))
    return _coming_day(month, int(match.group("day")), today) if month else None


def _part_of_month(part: str, month: int, today: date) -> Period:
    """ "в начале января": 1-10, "в середине": 11-20, "в конце": 21 to the month's end."""
    if part.startswith("начал"):
        days, label = (1, 10), "в начале"
    elif part.startswith("середин"):
        days, label = (11, 20), "в середине"
    else:
        days, label = (21, 31), "в конце"

    def third(year: int) -> Span:
        last_day = _stdlib_calendar.monthrange(year, month)[1]
        return date(year, month, days[0]), date(year, month, min(days[1], last_day))

    # This year's while it lasts ("в конце декабря" on 4 December), else next year's.
    first, last = third(today.year)
    if last < today:
        first, last = third(today.year + 1)
    start = max(first, today)
    return Period(f"{label} {date_format(first, 'E')}", ((start, last),), "range")


def period_in(text: str, today: date) -> Period | None:
    """The one time a question is about: the most specific one it names, if any."""
    found = periods_in(text, today)
    return found[0] if found else None
