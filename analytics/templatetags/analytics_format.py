"""Display filters for the analytics page: shares, durations, empty figures."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

register = template.Library()

DASH = "—"


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """A fraction (0..1) as a percentage: 0.4286 -> "42,9 %" (a non-breaking space)."""
    if value is None:
        return DASH
    return f"{floatformat(value * 100, digits)}\u00a0%"


@register.filter
def ms_as_seconds(value: float | None) -> str:
    """Milliseconds as seconds with two decimals: 1905 -> "1,91 s" (localised)."""
    if value is None:
        return DASH
    return _("%(value)s s") % {"value": floatformat(value / 1000, 2)}


@register.filter
def duration(value: float | None) -> str:
    """Seconds as a readable duration: 95 -> "1 min 35 s"; 7300 -> "2 h 1 min"."""
    if value is None:
        return DASH
    seconds = round(value)
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


@register.filter
def number(value: float | Decimal | None, digits: int = 0) -> str:
    if value is None:
        return DASH
    return str(floatformat(value, f"{digits}g"))


@register.filter
def get_item(mapping: dict[object, object], key: object) -> object:
    return mapping.get(key, 0)
