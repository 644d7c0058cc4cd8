"""The staff analytics page, its CSV export, and the Prometheus endpoint.

Who may see analytics: an active user with `is_staff` (operators are staff,
see support/migrations/0002) or a superuser. Anonymous visitors are sent
to the login page; logged-in non-staff users get 403.
"""

from __future__ import annotations

import csv
import hmac
import ipaddress
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from analytics.bookings import ChatBookingsCollector
from analytics.counters import flush_buffer
from analytics.dashboard import build_charts
from analytics.definitions import DEFINITIONS
from analytics.metrics import Period
from analytics.prometheus import scrape_registry
from analytics.report import build_report, csv_rows
from tatartours.client_ip import request_client_ip

DEFAULT_DAYS = 30
MAX_DAYS = 366

View = Callable[..., HttpResponse]


def can_view_analytics(user: Any) -> bool:
    return bool(user.is_active and (user.is_staff or user.is_superuser))


def staff_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_view_analytics(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


class PeriodForm(forms.Form):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD; both optional (default: the last 30 days)."""

    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, data: Any) -> None:
        # Public names from/to; the fields cannot be called `from`.
        super().__init__(
            {"date_from": data.get("from", ""), "date_to": data.get("to", "")},
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        last = cleaned.get("date_to") or today
        first = cleaned.get("date_from") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (last - first).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        cleaned["period"] = Period(first, last)
        return cleaned


def _period(request: HttpRequest) -> tuple[PeriodForm, Period]:
    form = PeriodForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["period"]
    return form, Period.last_days(DEFAULT_DAYS)


def _query(period: Period) -> str:
    return urlencode({"from": period.first_day.isoformat(), "to": period.last_day.isoformat()})


@require_GET
@never_cache
@staff_only
def analytics_page(request: HttpRequest) -> HttpResponse:
    form, period = _period(request)
    report = build_report(period)
    today = timezone.localdate()
    presets = [
        (days, _query(Period.last_days(days, today)), period == Period.last_days(days, today))
        for days in (7, 30, 90)
    ]
    return render(
        request,
        "analytics/page.html",
        {
            "form": form,
            "report": report,
            "charts": build_charts(report),
            "query": _query(period),
            "presets": presets,
            "bookings": report.bookings,
        },
    )


@require_GET
@staff_only
def analytics_definitions(request: HttpRequest) -> HttpResponse:
    """What each figure means: the page links here instead of a repository path."""
    return render(request, "analytics/definitions.html", {"sections": DEFINITIONS})


@require_GET
@never_cache
@staff_only
def analytics_csv(request: HttpRequest) -> HttpResponse:
    """The page's figures as CSV in long form (section, key, metric, value), UTF-8 with BOM."""
    _, period = _period(request)
    report = build_report(period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"tatartours-analytics-{period.first_day}-{period.last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # The BOM makes spreadsheet programs read the Cyrillic as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerows(csv_rows(report))
    return response


# --- /metrics -------------------------------------------------------------------------


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def metrics_allowed(request: HttpRequest) -> bool:
    """Loopback clients (unless METRICS_ALLOW_LOOPBACK is off), or the METRICS_TOKEN bearer."""
    token = settings.METRICS_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    return settings.METRICS_ALLOW_LOOPBACK and _is_loopback(request_client_ip(request))


@require_GET
@never_cache
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    # Scrapes are frequent: a cheap moment to move buffered refusal counts to Postgres.
    flush_buffer()
    # The format Prometheus asks for (classic text or OpenMetrics), as prometheus-client's
    # own HTTP server does.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    registry = scrape_registry(ChatBookingsCollector())
    return HttpResponse(encode(registry), content_type=content_type)
