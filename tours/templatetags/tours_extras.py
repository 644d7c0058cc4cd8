"""How tours read on the site: date ranges, durations and cover colours."""

from __future__ import annotations

import zlib

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tours.models import Tour

register = template.Library()


@register.filter
def tour_dates(tour: Tour) -> str:
    """ "12 июня 2026", "12–13 июня 2026" or "30 июня – 1 июля 2026"."""
    start, end = tour.start_date, tour.end_date
    if start == end:
        return date_format(start, "j E Y")
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{date_format(end, 'j E Y')}"
    if start.year == end.year:
        return f"{date_format(start, 'j E')} – {date_format(end, 'j E Y')}"
    return f"{date_format(start, 'j E Y')} – {date_format(end, 'j E Y')}"


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
