"""Working hours of the operators (SUPPORT_WORKING_HOURS, SUPPORT_WORKING_DAYS)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone


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
