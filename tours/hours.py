"""Working hours of the operators (SUPPORT_WORKING_HOURS, SUPPORT_WORKING_DAYS).

A fact of the company that the site states (footer, FAQ) and the support line
keeps, so it sits low in the app layers: tours, chat and support all read it.
"""

from __future__ import annotations

from datetime import datetime, time

from django.conf import settings
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _


def within_working_hours(moment: datetime | None = None) -> bool:
    """True when operators work at `moment` (now by default), in TIME_ZONE."""
    local = timezone.localtime(moment or timezone.now())
    if local.isoweekday() not in settings.SUPPORT_WORKING_DAYS:
        return False
    start, end = settings.SUPPORT_WORKING_HOURS
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return True  # the whole day
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # the window crosses midnight


def working_hours_label() -> str:
    """Shown to visitors: "09:00–21:00", or "" when operators work round the clock."""
    start, end = settings.SUPPORT_WORKING_HOURS
    if start == end:
        return ""
    end_text = "24:00" if end.hour == 0 and end.minute == 0 else end.strftime("%H:%M")
    return f"{start.strftime('%H:%M')}–{end_text}"


def _clock(moment: time, *, end: bool = False) -> str:
    if end and moment == time(0, 0):
        return "24:00"
    return f"{moment.hour}:{moment.minute:02d}"  # "9:00", as Russian texts write it


def _days_label(days: set[int]) -> str:
    """ISO weekdays as runs of short names: {1, 2, 3, 4, 5, 7} -> "пн–пт, вс"."""
    names = [str(WEEKDAYS_ABBR[day - 1]).lower() for day in range(1, 8)]
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        names[run[0] - 1] if len(run) == 1 else f"{names[run[0] - 1]}–{names[run[-1] - 1]}"
        for run in runs
    )


def _zone() -> str:
    if settings.TIME_ZONE == "Europe/Moscow":
        return _("Moscow time")
    return _("time zone %(zone)s") % {"zone": settings.TIME_ZONE}


def working_hours_sentence() -> str:
    """When operators answer, as one sentence for visitors, from the settings.

    The site's footer, the FAQ and the outside-hours reply all say this, so
    changing SUPPORT_WORKING_HOURS or SUPPORT_WORKING_DAYS changes every text.
    """
    start, end = settings.SUPPORT_WORKING_HOURS
    days = set(settings.SUPPORT_WORKING_DAYS)
    every_day = days >= set(range(1, 8))
    if not days:
        return _("Operators do not take chats at the moment.")
    if start == end:
        if every_day:
            return _("Operators answer around the clock, seven days a week.")
        return _("Operators answer around the clock on %(days)s.") % {"days": _days_label(days)}
    values = {
        "start": _clock(start),
        "end": _clock(end, end=True),
        "zone": _zone(),
        "days": _days_label(days),
    }
    if every_day:
        return _("Operators answer every day from %(start)s to %(end)s, %(zone)s.") % values
    return _("Operators answer on %(days)s from %(start)s to %(end)s, %(zone)s.") % values
