"""Filtering the tour catalogue: by month, place and price, as the tour list's form asks.

`TourFilters` is the plain query (tests and other callers build it directly);
`TourFilterForm` turns the list page's GET parameters into one, offering only
months and places that exist among the tours being filtered. A field with a
bad value is ignored rather than emptying the whole list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from tours.models import TourQuerySet

SORT_ORDERS: dict[str, tuple[str, ...]] = {
    "date": ("start_date", "title"),
    "price": ("price_per_person", "start_date"),
    "-price": ("-price_per_person", "start_date"),
}


@dataclass(frozen=True)
class TourFilters:
    month: date | None = None  # any day of the month; tours starting in that month
    place: str = ""
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    sort: str = "date"

    @property
    def active(self) -> bool:
        return bool(self.month or self.place or self.price_min is not None or self.price_max)


def filter_tours(tours: TourQuerySet, filters: TourFilters) -> TourQuerySet:
    """`tours` narrowed to `filters` and sorted; prices are per person, bounds inclusive."""
    query = Q()
    if filters.month is not None:
        query &= Q(start_date__year=filters.month.year, start_date__month=filters.month.month)
    if filters.place:
        query &= Q(place__iexact=filters.place)
    if filters.price_min is not None:
        query &= Q(price_per_person__gte=filters.price_min)
    if filters.price_max is not None:
        query &= Q(price_per_person__lte=filters.price_max)
    order = SORT_ORDERS.get(filters.sort, SORT_ORDERS["date"])
    return tours.filter(query).order_by(*order)


def month_value(day: date) -> str:
    return day.strftime("%Y-%m")


def list_url(
    site_url: str, *, month: date | None = None, place: str = "", price_max: Decimal | None = None
) -> str:
    """The tour list on `site_url` filtered as given: where "and N more" answers link to.

    Absolute, because the chat widget may be embedded on another site and
    links only absolute http(s) addresses.
    """
    query = {
        key: value
        for key, value in (
            ("month", month_value(month) if month else ""),
            ("place", place),
            ("price_max", f"{price_max:f}" if price_max is not None else ""),
        )
        if value
    }
    path = reverse("tours:list")
    return f"{site_url.rstrip('/')}{path}" + (f"?{urlencode(query)}" if query else "")


class TourFilterForm(forms.Form):
    month = forms.ChoiceField(label=_("Month"), required=False)
    place = forms.ChoiceField(label=_("Place"), required=False)
    price_min = forms.DecimalField(
        label=_("Price from, ₽"), required=False, min_value=0, max_digits=10, decimal_places=2
    )
    price_max = forms.DecimalField(
        label=_("Price up to, ₽"), required=False, min_value=0, max_digits=10, decimal_places=2
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("date", _("By date")),
            ("price", _("Cheaper first")),
            ("-price", _("More expensive first")),
        ],
    )

    def __init__(self, data: Any, *, tours: TourQuerySet) -> None:
        super().__init__(data)
        months = tours.dates("start_date", "month")
        self.choice_field("month").choices = [("", _("Any month"))] + [
            (month_value(day), date_format(day, "F Y")) for day in months
        ]
        places = tours.order_by("place").values_list("place", flat=True).distinct()
        self.choice_field("place").choices = [("", _("Anywhere"))] + [
            (place, place) for place in places
        ]

    def choice_field(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def filters(self) -> TourFilters:
        """The query of the fields that are valid; invalid ones are left out."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        month = data.get("month") or ""
        price_min, price_max = data.get("price_min"), data.get("price_max")
        if price_min is not None and price_max is not None and price_min > price_max:
            price_min, price_max = price_max, price_min  # Read "from 5000 to 2000" kindly.
        return TourFilters(
            month=date.fromisoformat(f"{month}-01") if month else None,
            place=data.get("place") or "",
            price_min=price_min,
            price_max=price_max,
            sort=data.get("sort") or "date",
        )
