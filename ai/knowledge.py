"""The knowledge base: FAQ entries and tours found for a question.

A thin layer over `ai.retrieval` (lemmas, typos, transliteration, aliases,
facets) that both answer paths share: `gather` for the prompt and the
offline answer, `find` for the offline answer's tours with its facets.

Sync functions: call them through `database_sync_to_async`, one hop each.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.utils import timezone

from ai import retrieval
from ai.facets import FACET_WORDS, Question, read_question
from ai.retrieval import FaqHit, TourQuery, TourSearch
from tours.models import FaqEntry

POLICY_TAG = "правила"


def search_faq(text: str, limit: int = 3) -> list[FaqHit]:
    """Published FAQ entries for a question, best first (the shared retrieval)."""
    return retrieval.search_faq(text, limit)


def policy_entries() -> list[FaqEntry]:
    """FAQ entries tagged «правила»: booking, payment and cancellation rules."""
    return list(
        FaqEntry.objects.filter(is_published=True, tags__icontains=POLICY_TAG).order_by(
            "position", "id"
        )
    )


def tours_for(text: str, limit: int = 5, *, today: date | None = None) -> list[dict[str, Any]]:
    """Tours a plain question points at (the shared retrieval), as JSON-able dicts."""
    return [t.data() for t in find(text, limit=limit, today=today).search.tours]


@dataclass
class Found:
    question: Question
    search: TourSearch
    page_tour: retrieval.TourRow | None = None  # the tour page the visitor is on


def find(text: str, *, limit: int = 5, today: date | None = None, page: str | None = None) -> Found:
    """The question's facets and its tours: by relevance, or by the sort it asks for.

    A question about tours in general ("какие у вас есть туры?") with no
    facet and no telling word gets the soonest ones.
    """
    today = today or timezone.localdate()
    catalogue = retrieval.Catalogue.load(today)
    question = read_question(text, catalogue, today)
    search = retrieval.search_tours(
        question.query, catalogue=catalogue, limit=limit, ignore=FACET_WORDS | retrieval.TIME_WORDS
    )
    if (
        not search.tours
        and not search.emptied_by
        and not search.unmatched_words
        and question.about_tours
    ):
        search = retrieval.search_tours(
            replace(question.query, sort="date"), catalogue=catalogue, limit=limit
        )
    page_tour = next((t for t in catalogue.tours if t.slug == page), None) if page else None
    return Found(question, search, page_tour)


@dataclass
class Knowledge:
    """What the prompt (or the offline answer) gets besides the conversation."""

    faq: list[FaqHit] = field(default_factory=list)
    tours: list[dict[str, Any]] = field(default_factory=list)
    reading: Question = field(default_factory=lambda: Question(text="", query=TourQuery()))
    search: TourSearch | None = None
    page_tour: retrieval.TourRow | None = None  # with its full description

    @property
    def faq_ids(self) -> list[int]:
        return [hit.id for hit in self.faq]

    @property
    def tour_slugs(self) -> list[str]:
        return [t["slug"] for t in self.tours]


def gather(
    question: str,
    *,
    with_tours: bool,
    faq_limit: int = 3,
    today: date | None = None,
    page: str | None = None,
) -> Knowledge:
    """FAQ hits, and matching tours when no tool will fetch them (one DB hop)."""
    faq = search_faq(question, faq_limit)
    if not with_tours:
        catalogue = retrieval.Catalogue.load(today)
        reading = read_question(question, catalogue, today or timezone.localdate())
        return Knowledge(faq=faq, reading=reading)
    found = find(question, today=today, page=page)
    return Knowledge(
        faq=faq,
        tours=[t.data() for t in found.search.tours],
        reading=found.question,
        search=found.search,
        page_tour=found.page_tour,
    )
