"""The question set: loading `questions.yaml` and checking it against its schema.

Every question carries its expectation as data. The check is strict (an
unknown key, a slug that is not in the demo catalogue, a FAQ id that is not
defined, a date word the scorer cannot resolve: an error naming the
question), because a typo in an expectation would silently score wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evaluation import calendar

QUESTIONS_PATH = Path(__file__).resolve().parent / "questions.yaml"

CATEGORIES = (
    "typo", "translit", "sight", "relative_date", "holiday", "month_season", "budget",
    "group", "children", "duration", "policy", "handoff", "offtopic", "page",
)  # fmt: skip
FACT_KINDS = ("price", "date", "free_places", "duration")
SORTS = ("price_asc", "price_desc", "start_asc", "duration_asc")

_QUESTION_KEYS = {"id", "category", "text", "page", "expect"}
_EXPECT_KEYS = {"tours", "select", "faq", "facts", "clauses", "first", "handoff", "offtopic"}
_SELECT_KEYS = {
    "among", "place", "exclude_place", "dates", "max_price", "budget_total", "people", "min_free",
    "max_hours", "overnight", "sort", "top",
}  # fmt: skip


class QuestionSetError(ValueError):
    """The question set breaks its schema; the message names the question and the key."""


@dataclass(frozen=True)
class Select:
    """Tours computed from the live database at scoring time (the scorer's own filter)."""

    among: tuple[str, ...] = ()  # only these tours (e.g. the nature ones)
    place: tuple[str, ...] = ()
    exclude_place: tuple[str, ...] = ()
    dates: str | None = None
    max_price: int | None = None
    budget_total: int | None = None
    people: int | None = None
    min_free: int | None = None
    max_hours: int | None = None
    overnight: bool | None = None
    sort: str | None = None
    top: int | None = None

    @property
    def price_limit(self) -> float | None:
        """The most a person may pay: `max_price`, or the budget shared by the people."""
        if self.budget_total is not None:
            return self.budget_total / (self.people or 1)
        return self.max_price

    @property
    def places_needed(self) -> int | None:
        if self.min_free is not None:
            return self.min_free
        return self.people


@dataclass(frozen=True)
class Expect:
    tours: tuple[str, ...] = ()
    select: Select | None = None
    faq: tuple[str, ...] = ()  # FAQ questions (ids resolved)
    facts: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()
    first: bool = False
    handoff: bool = False
    offtopic: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    text: str
    expect: Expect
    page: str | None = None


@dataclass(frozen=True)
class QuestionSet:
    questions: tuple[Question, ...]
    faq_ids: dict[str, str] = field(default_factory=dict)

    def by_id(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


def load(
    path: Path = QUESTIONS_PATH,
    *,
    tour_slugs: frozenset[str] | None = None,
    faq_questions: frozenset[str] | None = None,
) -> QuestionSet:
    """Read and check the set; `tour_slugs`/`faq_questions` default to the demo catalogue."""
    if tour_slugs is None or faq_questions is None:
        from tours.demo import DEMO_TOURS
        from tours.demo_faq import DEMO_FAQ

        tour_slugs = tour_slugs or frozenset(t.slug for t in DEMO_TOURS)
        faq_questions = faq_questions or frozenset(q for q, _, _ in DEMO_FAQ)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise QuestionSetError(f"cannot read the question set: {error.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise QuestionSetError(f"not a YAML question set: {error}") from None
    return parse(raw, tour_slugs=tour_slugs, faq_questions=faq_questions)


def parse(raw: Any, *, tour_slugs: frozenset[str], faq_questions: frozenset[str]) -> QuestionSet:
    if not isinstance(raw, dict) or set(raw) != {"faq_ids", "questions"}:
        raise QuestionSetError("the file must hold exactly `faq_ids` and `questions`")
    faq_ids = raw["faq_ids"]
    if not isinstance(faq_ids, dict) or not faq_ids:
        raise QuestionSetError("`faq_ids` must map short ids to FAQ questions")
    for key, question in faq_ids.items():
        if question not in faq_questions:
            raise QuestionSetError(f"faq id {key!r}: {question!r} is not a FAQ entry")
    if not isinstance(raw["questions"], list) or not raw["questions"]:
        raise QuestionSetError("`questions` must be a non-empty list")
    seen: set[str] = set()
    questions = []
    for index, item in enumerate(raw["questions"]):
        where = f"question #{index + 1}"
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            where = f"question {item['id']!r}"
        question = _question(item, where, tour_slugs, faq_ids)
        if question.id in seen:
            raise QuestionSetError(f"{where}: the id is used twice")
        seen.add(question.id)
        questions.append(question)
    return QuestionSet(tuple(questions), dict(faq_ids))


def _question(
    item: Any, where: str, tour_slugs: frozenset[str], faq_ids: dict[str, str]
) -> Question:
    if not isinstance(item, dict):
        raise QuestionSetError(f"{where}: must be a mapping")
    _no_unknown(item, _QUESTION_KEYS, where)
    question_id = _string(item, "id", where)
    category = _string(item, "category", where)
    if category not in CATEGORIES:
        raise QuestionSetError(f"{where}: category {category!r} is not one of {CATEGORIES}")
    text = _string(item, "text", where)
    page = item.get("page")
    if page is not None and page not in tour_slugs:
        raise QuestionSetError(f"{where}: page {page!r} is not a demo tour")
    expect = _expect(item.get("expect"), where, tour_slugs, faq_ids)
    if not (expect.tours or expect.select or expect.faq or expect.clauses) and not (
        expect.handoff or expect.offtopic
    ):
        raise QuestionSetError(f"{where}: expects nothing (tours, select, faq, handoff, offtopic)")
    return Question(question_id, category, text, expect, page)


def _expect(raw: Any, where: str, tour_slugs: frozenset[str], faq_ids: dict[str, str]) -> Expect:
    if not isinstance(raw, dict):
        raise QuestionSetError(f"{where}: `expect` must be a mapping")
    _no_unknown(raw, _EXPECT_KEYS, f"{where} expect")
    tours = _strings(raw, "tours", where)
    for slug in tours:
        if slug not in tour_slugs:
            raise QuestionSetError(f"{where}: tour {slug!r} is not a demo tour")
    if tours and "select" in raw:
        raise QuestionSetError(f"{where}: give `tours` or `select`, not both")
    faq = []
    for key in _strings(raw, "faq", where):
        if key not in faq_ids:
            raise QuestionSetError(f"{where}: faq id {key!r} is not in `faq_ids`")
        faq.append(faq_ids[key])
    facts = _strings(raw, "facts", where)
    for fact in facts:
        if fact not in FACT_KINDS:
            raise QuestionSetError(f"{where}: fact {fact!r} is not one of {FACT_KINDS}")
    if facts and not (tours or "select" in raw):
        raise QuestionSetError(f"{where}: facts need `tours` or `select` to belong to")
    select = _select(raw["select"], where, tour_slugs) if "select" in raw else None
    first = _bool(raw, "first", where)
    if first and not (select and select.sort):
        raise QuestionSetError(f"{where}: `first` needs a `select` with `sort`")
    offtopic = _bool(raw, "offtopic", where)
    handoff = _bool(raw, "handoff", where)
    if offtopic and (tours or select or faq or handoff):
        raise QuestionSetError(f"{where}: an off-topic question expects no tours, FAQ or handoff")
    return Expect(
        tours=tours,
        select=select,
        faq=tuple(faq),
        facts=facts,
        clauses=_strings(raw, "clauses", where),
        first=first,
        handoff=handoff,
        offtopic=offtopic,
    )


def _select(raw: Any, where: str, tour_slugs: frozenset[str]) -> Select:
    if not isinstance(raw, dict):
        raise QuestionSetError(f"{where}: `select` must be a mapping")
    _no_unknown(raw, _SELECT_KEYS, f"{where} select")
    dates = raw.get("dates")
    if dates is not None:
        if not isinstance(dates, str):
            raise QuestionSetError(f"{where}: `dates` must be a string")
        try:
            calendar.check(dates)
        except ValueError as error:
            raise QuestionSetError(f"{where}: {error}") from None
    sort = raw.get("sort")
    if sort is not None and sort not in SORTS:
        raise QuestionSetError(f"{where}: sort {sort!r} is not one of {SORTS}")
    overnight = raw.get("overnight")
    if overnight is not None and not isinstance(overnight, bool):
        raise QuestionSetError(f"{where}: `overnight` must be true or false")
    if "budget_total" in raw and "people" not in raw:
        raise QuestionSetError(f"{where}: `budget_total` needs `people`")
    among = _strings(raw, "among", where)
    for slug in among:
        if slug not in tour_slugs:
            raise QuestionSetError(f"{where}: tour {slug!r} is not a demo tour")
    return Select(
        among=among,
        place=_strings(raw, "place", where),
        exclude_place=_strings(raw, "exclude_place", where),
        dates=dates,
        max_price=_positive(raw, "max_price", where),
        budget_total=_positive(raw, "budget_total", where),
        people=_positive(raw, "people", where),
        min_free=_positive(raw, "min_free", where),
        max_hours=_positive(raw, "max_hours", where),
        overnight=overnight,
        sort=sort,
        top=_positive(raw, "top", where),
    )


def _no_unknown(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise QuestionSetError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _string(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise QuestionSetError(f"{where}: `{key}` must be a non-empty string")
    return value


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise QuestionSetError(f"{where}: `{key}` must be a list of non-empty strings")
    return tuple(value)


def _bool(raw: dict[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise QuestionSetError(f"{where}: `{key}` must be true or false")
    return value


def _positive(raw: dict[str, Any], key: str, where: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise QuestionSetError(f"{where}: `{key}` must be a positive whole number")
    return value
