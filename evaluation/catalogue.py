"""The live database's facts the scorer judges answers against, read once per run.

Plain dataclasses, so that the scorer is a pure function of (question, answer,
catalogue, today) and can be tested on hand-made catalogues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class TourFact:
    slug: str
    title: str
    place: str
    price: float
    start: date
    end: date
    duration_hours: int
    free_places: int
    text: str = ""  # title, short description and description: where clauses come from

    @property
    def nights(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class FaqFact:
    question: str
    answer: str


@dataclass(frozen=True)
class Catalogue:
    tours: tuple[TourFact, ...]
    faq: tuple[FaqFact, ...]

    def tour(self, slug: str) -> TourFact | None:
        return next((t for t in self.tours if t.slug == slug), None)


def from_database() -> Catalogue:
    """Published tours that have not ended and published FAQ entries, as the site shows them."""
    from django.utils import timezone

    from tours.models import FaqEntry, Tour

    today = timezone.localdate()
    tours = tuple(
        TourFact(
            slug=tour.slug,
            title=tour.title,
            place=tour.place,
            price=float(tour.price_per_person),
            start=tour.start_date,
            end=tour.end_date,
            duration_hours=tour.duration_hours,
            free_places=tour.free_places,
            text=f"{tour.title}. {tour.short_description}. {tour.description}",
        )
        for tour in Tour.objects.published().filter(end_date__gte=today).order_by("start_date")
    )
    entries = FaqEntry.objects.filter(is_published=True)
    faq = tuple(FaqFact(entry.question, entry.answer) for entry in entries)
    return Catalogue(tours, faq)
