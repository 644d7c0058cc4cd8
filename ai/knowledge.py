"""The knowledge base: FAQ entries and tours found for a question.

A thin layer over `ai.retrieval` (lemmas, typos, transliteration, aliases,
facets) that both answer paths share: `gather` for the prompt and the
offline answer, `find` for the offline answer's tours with its facets.

Sync functions: call them through `database_sync_to_async`, one hop each;
`gather_soon` is the async entry of the answer paths, on the event loop when
the process already holds the knowledge base the request's stamp names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from channels.db import database_sync_to_async
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


def find(
    text: str,
    *,
    limit: int = 5,
    today: date | None = None,
    page: str | None = None,
    stamp: str | None = None,
) -> Found:
    """The question's facets and its tours: by relevance, or by the sort it asks for.

    A question about tours in general ("какие у вас есть туры?") with no
    facet and no telling word gets the soonest ones.
    """
    today = today or timezone.localdate()
    catalogue = retrieval.knowledge_base(today, stamp).catalogue
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
    stamp: str | None = None,
) -> Knowledge:
    """FAQ hits, and matching tours when no tool will fetch them.

    One DB hop at most: none when the process holds the knowledge base of
    `stamp` (`retrieval.knowledge_base`).
    """
    today = today or timezone.localdate()
    base = retrieval.knowledge_base(today, stamp)
    faq = retrieval.search_faq(question, faq_limit, faq=base.faq)
    if not with_tours:
        reading = read_question(question, base.catalogue, today)
        return Knowledge(faq=faq, reading=reading)
    found = find(question, today=today, page=page, stamp=base.stamp)
    return Knowledge(
        faq=faq,
        tours=[t.data() for t in found.search.tours],
        reading=found.question,
        search=found.search,
        page_tour=found.page_tour,
    )


async def gather_soon(
    question: str,
    *,
    stamp: str | None,
    with_tours: bool,
    faq_limit: int = 3,
    page: str | None = None,
) -> Knowledge:
    """`gather` from async code: on the event loop, with no DB hop, when the process
    holds the knowledge base of `stamp` (read with the chat's context); else in
    one hop that reads what changed.

    On the loop it is CPU only (the question's words against the catalogue):
    the same work the DB thread would do, without the hand-off and the wait
    behind the other hops of the process.
    """
    today = timezone.localdate()
    if retrieval.cached_knowledge_base(today, stamp) is not None:
        return gather(
            question,
            with_tours=with_tours,
            faq_limit=faq_limit,
            today=today,
            page=page,
            stamp=stamp,
        )
    return await database_sync_to_async(gather)(
        question, with_tours=with_tours, faq_limit=faq_limit, today=today, page=page, stamp=stamp
    )
