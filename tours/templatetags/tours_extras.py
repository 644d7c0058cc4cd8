"""How tours read on the site: date ranges, prices, durations and cover colours.

Dates and prices use non-breaking spaces ("21 декабря 2026", "3 200 ₽"):
on a phone a price or a date must never wrap inside itself. The operators'
dashboard reads the same functions (support/context.py).
"""

from __future__ import annotations

import zlib
from datetime import date
from decimal import Decimal

from django import template
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tours.models import Tour

register = template.Library()

NBSP = "\u00a0"


def _day(day: date, fmt: str) -> str:
    return date_format(day, fmt).replace(" ", NBSP)


@register.filter
def long_date(day: date) -> str:
    """ "21 декабря 2026", unbreakable."""
    return _day(day, "j E Y")


def date_range(start: date, end: date) -> str:
    """ "12 июня 2026", "12–13 июня 2026" or "30 июня – 1 июля 2026"."""
    if start == end:
        return _day(start, "j E Y")
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{_day(end, 'j E Y')}"
    # The dash stays on the first date's line.
    if start.year == end.year:
        return f"{_day(start, 'j E')}{NBSP}– {_day(end, 'j E Y')}"
    return f"{_day(start, 'j E Y')}{NBSP}– {_day(end, 'j E Y')}"


@register.filter
def tour_dates(tour: Tour) -> str:
    return date_range(tour.start_date, tour.end_date)


@register.filter
def rub(value: Decimal | int | float) -> str:
    """A price in roubles: 3200 -> "3 200 ₽"; kopecks only when there are any."""
    amount = Decimal(value)
    digits = 0 if amount == amount.to_integral_value() else 2
    number = number_format(amount, decimal_pos=digits, use_l10n=True, force_grouping=True)
    return f"{number.replace(' ', NBSP)}{NBSP}₽"


@register.filter
def tour_duration(tour: Tour) -> str:
    days = (tour.end_date - tour.start_date).days + 1
    if days > 1:
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    hours = tour.duration_hours
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


@register.filter
def free_places_label(tour: Tour) -> str:
    free = tour.free_places
    if not free:
        return _("No places left")
    return ngettext("%(count)d place left", "%(count)d places left", free) % {"count": free}


# Hues that look good as deep cover gradients (no muddy yellow-greens).
COVER_HUES = (168, 196, 212, 232, 262, 318, 350, 18, 148, 186)


@register.filter
def cover_hue(tour: Tour) -> int:
    """A stable colour per place, so every Kazan tour shares one cover tint."""
    return COVER_HUES[zlib.crc32(tour.place.casefold().encode("utf-8")) % len(COVER_HUES)]


@register.filter
def booked_percent(tour: Tour) -> int:
    if not tour.max_participants:
        return 100
    return min(100, round(100 * tour.places_booked / tour.max_participants))
