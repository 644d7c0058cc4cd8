"""Small rules with no I/O: the wait estimate, working hours, their settings."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from support.estimate import estimated_wait_seconds
from tatartours.env import env_int_set, env_time_range
from tours.hours import within_working_hours, working_hours_label

MOSCOW = ZoneInfo("Europe/Moscow")


def at(hour: int, minute: int = 0, day: int = 3) -> datetime:
    """A Wednesday (day 3 of June 2026 is a Wednesday) at this Moscow time."""
    return datetime(2026, 6, day, hour, minute, tzinfo=MOSCOW)


def test_the_estimate_follows_recent_waits_and_operators_available():
    waits = [60.0, 120.0, 90.0]
    one = estimated_wait_seconds(position=1, available_operators=1, recent_waits=waits, default=300)
    assert one == 90  # the median
    assert (
        estimated_wait_seconds(position=3, available_operators=1, recent_waits=waits, default=300)
        == 270
    )
    assert (
        estimated_wait_seconds(position=3, available_operators=3, recent_waits=waits, default=300)
        == 90
    )


def test_without_history_the_default_is_used_and_without_operators_no_number():
    assert (
        estimated_wait_seconds(position=2, available_operators=2, recent_waits=[], default=120)
        == 120
    )
    assert (
        estimated_wait_seconds(position=1, available_operators=0, recent_waits=[60], default=1)
        is None
    )
    assert (
        estimated_wait_seconds(position=1, available_operators=1, recent_waits=[1.0], default=1)
        == 30
    )


def test_working_hours_within_a_day(settings):
    settings.SUPPORT_WORKING_HOURS = (time(9, 0), time(21, 0))
    settings.SUPPORT_WORKING_DAYS = frozenset(range(1, 6))
    assert within_working_hours(at(9, 0))
    assert within_working_hours(at(20, 59))
    assert not within_working_hours(at(21, 0))
    assert not within_working_hours(at(8, 59))
    assert not within_working_hours(at(12, 0, day=6))  # Saturday
    assert working_hours_label() == "09:00–21:00"


def test_working_hours_across_midnight_and_round_the_clock(settings):
    settings.SUPPORT_WORKING_DAYS = frozenset(range(1, 8))
    settings.SUPPORT_WORKING_HOURS = (time(22, 0), time(6, 0))
    assert within_working_hours(at(23, 30)) and within_working_hours(at(5, 59))
    assert not within_working_hours(at(12, 0))
    settings.SUPPORT_WORKING_HOURS = (time(0, 0), time(0, 0))
    assert within_working_hours(at(3, 0))
    assert working_hours_label() == ""


def test_time_ranges_and_day_sets_from_the_environment(monkeypatch):
    monkeypatch.setenv("HOURS", "08:30-24:00")
    assert env_time_range("HOURS", "00:00-24:00") == (time(8, 30), time(0, 0))
    monkeypatch.setenv("DAYS", "1-3,6")
    assert env_int_set("DAYS", "1-7", minimum=1, maximum=7) == frozenset({1, 2, 3, 6})
    for bad in ("9-21", "25:00-26:00", "nine"):
        monkeypatch.setenv("HOURS", bad)
        with pytest.raises(ImproperlyConfigured, match="HOURS"):
            env_time_range("HOURS", "00:00-24:00")
    monkeypatch.setenv("DAYS", "0-8")
    with pytest.raises(ImproperlyConfigured, match="DAYS"):
        env_int_set("DAYS", "1-7", minimum=1, maximum=7)
