"""Typed readers for settings that come from the environment.

Each helper raises ImproperlyConfigured with the variable's name on a bad
value, so a typo in a deployment fails at start-up instead of at 3 a.m.
"""

from __future__ import annotations

import os
from datetime import time
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated list; blanks are dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def _parse_clock(name: str, raw: str, text: str) -> time:
    """Parse HH:MM on a 24-hour clock; 24:00 is the end of the day (midnight)."""
    try:
        hours_text, minutes_text = text.strip().split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must look like 09:00-21:00, got {raw!r}") from None
    if (hours, minutes) == (24, 0):
        return time(0, 0)
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ImproperlyConfigured(f"{name} has an impossible time in {raw!r}")
    return time(hours, minutes)


def env_time_range(name: str, default: str) -> tuple[time, time]:
    """A daily window "HH:MM-HH:MM" (local time).

    Equal ends ("00:00-24:00") mean the whole day; a start after the end
    ("22:00-06:00") crosses midnight.
    """
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        raw = default
    start, separator, end = raw.partition("-")
    if not separator:
        raise ImproperlyConfigured(f"{name} must look like 09:00-21:00, got {raw!r}")
    return _parse_clock(name, raw, start), _parse_clock(name, raw, end)


def env_int_set(name: str, default: str, *, minimum: int, maximum: int) -> frozenset[int]:
    """Whole numbers and ranges, comma-separated: "1-5", "1,3,5-7"."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        raw = default
    values: set[int] = set()
    for item in raw.split(","):
        low_text, _, high_text = item.strip().partition("-")
        try:
            low = int(low_text)
            high = int(high_text) if high_text else low
        except ValueError:
            raise ImproperlyConfigured(f"{name} must look like 1-5 or 1,3,5, got {raw!r}") from None
        if not (minimum <= low <= high <= maximum):
            raise ImproperlyConfigured(
                f"{name} values must be within {minimum}..{maximum}, got {raw!r}"
            )
        values.update(range(low, high + 1))
    return frozenset(values)


def env_origin_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated web origins, "https://partner.example[:port]" (scheme, host, port)."""
    origins = env_list(name, default)
    for origin in origins:
        try:
            parts = urlsplit(origin)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            raise ImproperlyConfigured(
                f"{name} must list origins such as https://partner.example "
                f"(scheme, host and optional port), got {origin!r}"
            )
    return origins
