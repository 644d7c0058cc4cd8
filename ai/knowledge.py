"""The knowledge base: FAQ entries and tours found for a question.

PostgreSQL full-text search with the `russian` configuration, so "вернуть
деньги", "возврат денег" and "деньги вернут" meet on the same lexemes. The
question's words are OR-ed (a visitor's question rarely shares all its
words with an answer) and ranked with ts_rank, the question and tags
weighing more than the answer text. The filter uses the very expression of
the GIN index `faq_search_ru_idx`.

Sync functions: call them through `database_sync_to_async`, one hop each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, reduce
from operator import or_
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations

from ai import catalog
from ai.russian import Reading, places_in, read
from tours.models import FaqEntry, faq_search_document, faq_search_ranking

# Words that say nothing about which answer fits: greetings, politeness and
# the site's own subject (every entry is about tours).
_NOISE_PREFIXES = (
    "здравств",
    "привет",
    "добр",
    "спасиб",
    "пожалуйст",
    "подскаж",
    "скаж",
    "хоч",
    "хотел",
    "можн",
    "нуж",
    "есть",
    "как",
    "тур",
    "экскурс",
    "ваш",
)
POLICY_TAG = "правила"


_RAW_WORD = re.compile(r"[a-zа-яё0-9-]+", re.IGNORECASE)


def search_terms(text: str) -> list[str]:
    """The question's meaningful words, at most 16; each is stemmed by the `russian` config.

    PostgreSQL's Russian stemmer treats ё and е as different letters, so a
    word typed with ё is also searched with е (entries spell either way).
    """
    terms: list[str] = []
    for raw in _RAW_WORD.findall(text.lower()):
        plain = raw.replace("ё", "е")
        if len(plain) < 3 or plain.isdigit() or plain.startswith(_NOISE_PREFIXES):
            continue
        terms.extend(t for t in (raw, plain) if t not in terms)
    return terms[:16]


def search_query(text: str) -> SearchQuery | None:
    """The OR of `search_terms` as an ORM expression (for the tour catalog's search)."""
    terms = search_terms(text)
    if not terms:
        return None
    queries = [SearchQuery(term, config="russian", search_type="plain") for term in terms]
    return reduce(or_, queries)


@dataclass(frozen=True)
class FaqHit:
    id: int
    question: str
    answer: str
    rank: float


def search_faq(text: str, limit: int = 3) -> list[FaqHit]:
    terms = search_terms(text)
    if not terms or limit <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_faq_search_sql(len(terms)), [*terms, limit])
        return [FaqHit(*row) for row in cursor.fetchall()]


# The FAQ is searched for every question the AI answers. Built by the ORM
# (SearchVector, SearchRank) this statement took ~2 ms of Python to compile,
# a fifth of the server's Python time per answer in the benchmark's profile;
# prebuilt, one per number of terms, it is the same SQL for nothing. Its
# document and ranking are tours.models' own expressions, compiled once by
# Django with their constants inlined: the WHERE is the GIN index's
# expression exactly, also under prepared statements.
def _compiled(expression: Any) -> str:
    query = FaqEntry.objects.all().query
    sql, params = query.get_compiler(connection=connection).compile(
        expression.resolve_expression(query)
    )
    operations = connection.ops
    assert isinstance(operations, PostgresOperations), "FAQ search needs PostgreSQL"
    return str(operations.compose_sql(sql, params))


@cache
def _faq_search_sql(terms: int) -> str:
    query = " || ".join(["plainto_tsquery('russian'::regconfig, %s)"] * terms)
    return (
        f"SELECT id, question, answer, ts_rank({_compiled(faq_search_ranking())}, q.query) "
        f"AS rank FROM {FaqEntry._meta.db_table}, (SELECT {query} AS query) AS q "
        f"WHERE is_published AND {_compiled(faq_search_document())} @@ q.query "
        "ORDER BY rank DESC, position, id LIMIT %s"
    )


def policy_entries() -> list[FaqEntry]:
    """FAQ entries tagged «правила»: booking, payment and cancellation rules."""
    return list(
        FaqEntry.objects.filter(is_published=True, tags__icontains=POLICY_TAG).order_by(
            "position", "id"
        )
    )


def tours_for(text: str, reading: Reading | None = None, limit: int = 5) -> list[dict[str, Any]]:
    """Tours a plain question points at: by month, place and price, else by its words."""
    reading = reading or read(text)
    places = places_in(text, catalog.known_places())
    criteria = catalog.TourFilter(
        month=reading.month,
        place=places[0] if places else None,
        max_price=Decimal(reading.max_price) if reading.max_price else None,
    )
    if reading.month or places or reading.max_price:
        return catalog.search_tours(criteria, limit=limit)
    query = search_query(text)
    if query is not None:
        found = catalog.search_tours(catalog.TourFilter(text=query), limit=limit)
        if found:
            return found
    return catalog.upcoming_tours(limit) if reading.about_tours else []


@dataclass
class Knowledge:
    """What the prompt (or the offline answer) gets besides the conversation."""

    faq: list[FaqHit] = field(default_factory=list)
    tours: list[dict[str, Any]] = field(default_factory=list)
    reading: Reading = field(default_factory=Reading)

    @property
    def faq_ids(self) -> list[int]:
        return [hit.id for hit in self.faq]

    @property
    def tour_slugs(self) -> list[str]:
        return [t["slug"] for t in self.tours]


def gather(question: str, *, with_tours: bool, faq_limit: int = 3) -> Knowledge:
    """FAQ hits, and matching tours when no tool will fetch them (one DB hop)."""
    reading = read(question)
    return Knowledge(
        faq=search_faq(question, faq_limit),
        tours=tours_for(question, reading) if with_tours else [],
        reading=reading,
    )
