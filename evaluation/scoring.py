"""Scoring one answer against its question and the live catalogue, and a run as a whole.

Pure functions of (question, exchange, catalogue, today): the harness gathers
exchanges over the real socket, this module judges them. Every measure and
its definition is in docs/ai.md ("Evaluation").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from evaluation import calendar, reading
from evaluation.catalogue import Catalogue, TourFact
from evaluation.questionset import Question, Select

SHOWN_FIRST = 3
# A price figure is right for a tour when it is the price for this many people.
MAX_PEOPLE_IN_A_TOTAL = 60
# Discounts the FAQ names (children 20%, groups, students and pensioners 10%).
DISCOUNT_FACTORS = (1.0, 0.8, 0.9)


@dataclass
class Exchange:
    """What the visitor's socket received for one question."""

    question_id: str
    answer: str = ""
    source: str = ""
    frame_types: list[str] = field(default_factory=list)
    handoff_signals: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    error: str = ""

    @property
    def handed_off(self) -> bool:
        return bool(self.handoff_signals)


@dataclass
class Score:
    question_id: str
    category: str
    text: str
    answer: str
    length: int
    shown: list[str]
    expected_tours: list[str]
    expected_faq: list[str]
    retrieval: bool | None = None
    facts: bool | None = None
    missing_facts: list[str] = field(default_factory=list)
    stale_clauses: list[str] = field(default_factory=list)
    wrong_facts: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    handoff_expected: bool = False
    handoff: bool = False
    handoff_signals: list[str] = field(default_factory=list)
    offtopic: bool | None = None
    padded: bool = False
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_tours(select: Select, catalogue: Catalogue, today: date) -> list[TourFact]:
    """The tours of the live catalogue that meet the question's own conditions."""
    tours = [t for t in catalogue.tours if t.end >= today]
    if select.among:
        tours = [t for t in tours if t.slug in select.among]
    if select.place:
        tours = [t for t in tours if t.place in select.place]
    if select.exclude_place:
        tours = [t for t in tours if t.place not in select.exclude_place]
    tours = [t for t in tours if not _breaks(select, t, today)]
    if select.max_hours is not None:
        tours = [t for t in tours if t.duration_hours <= select.max_hours]
    if select.overnight is not None:
        tours = [t for t in tours if (t.nights > 0) == select.overnight]
    if select.sort:
        key = {
            "price_asc": lambda t: (t.price, t.start),
            "price_desc": lambda t: (-t.price, t.start),
            "start_asc": lambda t: (t.start, t.price),
            "duration_asc": lambda t: (t.duration_hours, t.start),
        }[select.sort]
        tours.sort(key=key)
    if select.top:
        tours = tours[: select.top]
    return tours


def _breaks(select: Select, tour: TourFact, today: date) -> list[str]:
    """Which of the question's own conditions (dates, budget, group size) this tour breaks."""
    broken = []
    if select.dates:
        start, end = calendar.resolve(select.dates, today)
        if tour.start > end or tour.end < start:
            broken.append(f"date: {tour.slug} on {tour.start}, asked {start}..{end}")
    limit = select.price_limit
    if limit is not None and tour.price > limit:
        broken.append(f"budget: {tour.slug} costs {tour.price:g}, asked at most {limit:g}")
    needed = select.places_needed
    if needed is not None and tour.free_places < needed:
        broken.append(f"places: {tour.slug} has {tour.free_places} free, asked {needed}")
    return broken


def score(question: Question, exchange: Exchange, catalogue: Catalogue, today: date) -> Score:
    expect = question.expect
    found = reading.read(exchange.answer, catalogue, page=question.page)
    select = expect.select
    if select is not None:
        expected = [t.slug for t in expected_tours(select, catalogue, today)]
    else:
        expected = list(expect.tours)
    result = Score(
        question_id=question.id,
        category=question.category,
        text=question.text,
        answer=exchange.answer,
        length=len(exchange.answer),
        shown=[f"{m.kind}:{m.key}" for m in found.shown],
        expected_tours=expected,
        expected_faq=list(expect.faq),
        handoff_expected=expect.handoff,
        handoff=exchange.handed_off,
        handoff_signals=list(exchange.handoff_signals),
        error=exchange.error,
    )
    said_none = reading.NO_MATCH.search(found.text)
    _retrieval(result, question, found, expected, said_none is not None)
    _facts(result, question, found, expected, catalogue, today)
    result.wrong_facts = wrong_facts(question, found, catalogue, today)
    if select is not None:
        # Alternatives offered after an honest "nothing fits" do not pretend to fit.
        honest_from = said_none.start() if said_none else len(found.text) + 1
        result.violations = [
            broken
            for mention in found.mentions
            if mention.kind == "tour" and mention.start < honest_from
            if (tour := catalogue.tour(mention.key)) is not None
            for broken in _breaks(select, tour, today)
        ]
    if expect.offtopic:
        result.offtopic = (
            bool(exchange.answer.strip())
            and not found.shown
            and not exchange.handed_off
            and bool(reading.REDIRECT.search(found.text))
        )
        result.padded = bool(found.shown)
    elif (expect.faq or expect.clauses) and not (expected or select or question.page):
        # A rules question: the FAQ answer alone, no tours around it.
        result.padded = bool(found.tours)
    return result


def _retrieval(
    result: Score, question: Question, found: reading.Reading, expected: list[str], honest: bool
) -> None:
    expect = question.expect
    first = [(m.kind, m.key) for m in found.shown[:SHOWN_FIRST]]
    checks = []
    if expected:
        checks.append(any(("tour", slug) in first for slug in expected))
        if expect.first:
            checks.append(bool(found.tours) and found.tours[0] == expected[0])
    elif expect.select is not None:
        # Nothing in the catalogue fits: an honest "no such tour" is the right answer.
        checks.append(honest)
    if expect.faq:
        checks.append(any(("faq", entry) in first for entry in expect.faq))
    if checks:
        result.retrieval = all(checks)


def _facts(
    result: Score,
    question: Question,
    found: reading.Reading,
    expected: list[str],
    catalogue: Catalogue,
    today: date,
) -> None:
    expect = question.expect
    if not (expect.facts or expect.clauses):
        return
    missing: list[str] = []
    if expect.facts and expected:
        targets = [slug for slug in expected if slug in found.tours]
        if not targets:
            missing.append("no expected tour shown to carry " + ", ".join(expect.facts))
        for slug in targets:
            tour = catalogue.tour(slug)
            assert tour is not None
            segment = found.segment(slug)
            for kind in expect.facts:
                if not _has_fact(kind, tour, segment, today):
                    missing.append(f"{kind} of {slug}")
    sources = [f.answer + " " + f.question for f in catalogue.faq if f.question in expect.faq]
    sources += [t.text for t in catalogue.tours if t.slug in expected]
    for clause in expect.clauses:
        pattern = re.compile(clause.lower().replace("ё", "е"))
        if sources and not any(pattern.search(reading.normalize(text)) for text in sources):
            # The FAQ or the tour was edited: the set is out of date, not the answer wrong.
            result.stale_clauses.append(clause)
        elif not pattern.search(found.text):
            missing.append(f"clause /{clause}/")
    result.missing_facts = missing
    result.facts = not missing


def _has_fact(kind: str, tour: TourFact, segment: str, today: date) -> bool:
    if kind == "price":
        return any(abs(p - tour.price) < 0.5 for p in reading.prices(segment))
    if kind == "date":
        return tour.start in reading.dates(segment, today)
    if kind == "free_places":
        return tour.free_places in reading.free_places(segment)
    # duration: hours, or days/nights for a tour over several days
    if any(abs(h - tour.duration_hours) < 0.01 for h in reading.hours(segment)):
        return True
    written_days, written_nights = reading.days(segment), reading.nights(segment)
    return bool(tour.nights) and (tour.nights + 1 in written_days or tour.nights in written_nights)


def wrong_facts(
    question: Question, found: reading.Reading, catalogue: Catalogue, today: date
) -> list[str]:
    """Price, date and free-places figures in a tour's segment that are not that tour's."""
    asked = reading.normalize(question.text)
    asked_numbers = {float(n) for n in re.findall(r"\d+", asked.replace(" ", ""))}
    asked_numbers |= {float(n) for n in re.findall(r"\d+", asked)}
    asked_numbers |= reading.thousands_in_words(asked)
    asked_numbers |= {value * 1000 for value in asked_numbers}
    select = question.expect.select
    if select is not None:
        # "бюджет 5000 на двоих" may come back as "по 2 500 ₽ с человека".
        limits = (select.max_price, select.budget_total, select.price_limit)
        asked_numbers |= {float(value) for value in limits if value is not None}
    asked_dates = set(reading.dates(asked, today)) | {today}
    # The question's own range, written back ("осенью (1 сентября — 30 ноября) нет"),
    # is not a tour's date, whatever year the reader gives a date written without one.
    asked_days = {(d.month, d.day) for d in asked_dates}
    if select is not None and select.dates:
        start, end = calendar.resolve(select.dates, today)
        asked_days |= {
            ((start + timedelta(days=n)).month, (start + timedelta(days=n)).day)
            for n in range(min((end - start).days, 366) + 1)
        }
    wrong = []
    for slug in dict.fromkeys(found.tours):
        tour = catalogue.tour(slug)
        if tour is None:
            continue
        segment = found.segment(slug)
        for price in reading.prices(segment):
            if price in asked_numbers or _a_price_of(price, tour):
                continue
            wrong.append(f"price {price:g} for {slug} (is {tour.price:g})")
        for written in reading.dates(segment, today):
            if tour.start <= written <= tour.end or (written.month, written.day) in asked_days:
                continue
            wrong.append(f"date {written} for {slug} (is {tour.start}..{tour.end})")
        for free in reading.free_places(segment):
            if free == tour.free_places or float(free) in asked_numbers:
                continue
            wrong.append(f"free places {free} for {slug} (is {tour.free_places})")
    return wrong


def _a_price_of(price: float, tour: TourFact) -> bool:
    for people in range(1, MAX_PEOPLE_IN_A_TOTAL + 1):
        for factor in DISCOUNT_FACTORS:
            if abs(price - tour.price * people * factor) < 0.5:
                return True
    return False


# --- a run ---------------------------------------------------------------------------


def _rate(values: list[bool | None]) -> tuple[float | None, int, int]:
    counted = [v for v in values if v is not None]
    if not counted:
        return None, 0, 0
    passed = sum(1 for v in counted if v)
    return round(100 * passed / len(counted), 1), passed, len(counted)


def summarize(scores: list[Score]) -> dict[str, Any]:
    """The run's measures (percentages with their counts), overall and per category."""
    retrieval = _rate([s.retrieval for s in scores])
    facts = _rate([s.facts for s in scores])
    offtopic = _rate([s.offtopic for s in scores])
    true_positive = sum(1 for s in scores if s.handoff and s.handoff_expected)
    expected = sum(1 for s in scores if s.handoff_expected)
    predicted = sum(1 for s in scores if s.handoff)
    # An operator who took the chat instead of the AI leaves no answer to measure.
    lengths = [s.length for s in scores if s.answer]
    categories: dict[str, dict[str, Any]] = {}
    for category in dict.fromkeys(s.category for s in scores):
        own = [s for s in scores if s.category == category]
        categories[category] = {
            "questions": len(own),
            "retrieval": _rate([s.retrieval for s in own])[1:],
            "facts": _rate([s.facts for s in own])[1:],
            "wrong_facts": sum(len(s.wrong_facts) for s in own),
            "violations": sum(1 for s in own if s.violations),
            "handoffs": sum(1 for s in own if s.handoff),
            "mean_length": round(sum(s.length for s in own) / len(own)),
        }
    return {
        "questions": len(scores),
        "errors": sum(1 for s in scores if s.error),
        "retrieval_at_3_percent": retrieval[0],
        "retrieval_at_3": retrieval[1:],
        "facts_right_percent": facts[0],
        "facts_right": facts[1:],
        "wrong_facts": sum(len(s.wrong_facts) for s in scores),
        "answers_with_wrong_facts": sum(1 for s in scores if s.wrong_facts),
        "answers_breaking_own_conditions": sum(1 for s in scores if s.violations),
        "handoff_recall_percent": round(100 * true_positive / expected, 1) if expected else None,
        "handoff_precision_percent": (
            round(100 * true_positive / predicted, 1) if predicted else None
        ),
        "handoffs": {"expected": expected, "made": predicted, "right": true_positive},
        "false_handoffs": predicted - true_positive,
        "offtopic_redirected_percent": offtopic[0],
        "offtopic_redirected": offtopic[1:],
        "padded_answers": sum(1 for s in scores if s.padded),
        "stale_clauses": sorted({c for s in scores for c in s.stale_clauses}),
        "mean_length": round(sum(lengths) / len(lengths)) if lengths else 0,
        "categories": categories,
    }
