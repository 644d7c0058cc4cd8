"""Reading an answer as a visitor would: which tours and FAQ entries it shows, which figures.

- A tour is shown when its title is written (any quotes, case, ё/е,
  punctuation between the words), its page is linked (`/tours/<slug>/`) or
  its slug is written. Longer titles are matched first and their text is
  masked, so «Голубые озёра» inside «Раифа и Голубые озёра» is one tour.
- A FAQ entry is shown when its question is written, or one of the
  sentences of its answer (five words or more) is.
- Figures are read from the tour's own segment of the answer: the whole
  answer when it shows one tour, else from a tour's mention to the next
  one's. Prices need a currency word (₽, руб, р.), free places a
  "свободно/осталось ... мест" phrase, dates a Russian month name or dd.mm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from evaluation.catalogue import Catalogue, FaqFact, TourFact

MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6, "июл": 7,
    "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip
_MONTH_WORD = (
    r"(январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[яй]|июн[ья]|июл[ья]|августа?|"
    r"сентябр[ья]|октябр[ья]|ноябр[ья]|декабр[ья])(?!\w)"
)
NUMBER_WORDS = {
    "ноль": 0, "одно": 1, "один": 1, "одна": 1, "два": 2, "две": 2, "три": 3, "четыре": 4,
    "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9, "десять": 10,
}  # fmt: skip
_NUMBER = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"

_PRICE = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?\s*"
    r"(тыс\.?|тысяч\w*)?\s*(₽|руб\w*|р\.(?!\w))",
)
_FREE = [
    re.compile(p)
    for p in (
        r"свободн\w*\s+мест\w*\s*(?:[:—-]|-|—)?\s*(?:всего\s+|только\s+|лишь\s+)?" + _NUMBER,
        _NUMBER + r"\s+свободн\w*\s+мест",
        r"остал\w*\s+(?:всего\s+|только\s+|лишь\s+)?" + _NUMBER + r"\s+мест",
        r"мест\w*\s+остал\w*\s*[:—-]?\s*(?:всего\s+|только\s+|лишь\s+)?" + _NUMBER,
        r"свободно\s+(?:всего\s+|только\s+|лишь\s+)?" + _NUMBER,
        _NUMBER + r"\s+мест\w*\s+свободн",
        r"мест\s*:\s*(\d+)",
    )
]
_NO_PLACES = re.compile(r"мест\s+нет|нет\s+(?:свободных\s+)?мест|мест\s+не\s+осталось")
_HOURS = re.compile(r"(\d+)(?:[.,](\d))?\s*(?:час\w*|ч\.?(?!\w))")
_DAYS = re.compile(r"(\d+|один|одного|два|двух|три|трех|четыре|четырех)[\s-]*(?:дн\w*|день|дня)")
_NIGHTS = re.compile(r"(\d+|одн\w*|две|двух|три|трех)\s*ноч")
_MULTI_DAY_WORDS = {"двухдневн": 2, "трехдневн": 3, "однодневн": 1}
_DAY_WORDS = {"один": 1, "одного": 1, "два": 2, "двух": 2, "три": 3, "трех": 3, "четыре": 4}
_NIGHT_WORDS = {"одн": 1, "две": 2, "двух": 2, "три": 3, "трех": 3}
_DATE_WORDS = re.compile(
    r"(?<!\d)(\d{1,2})(?:\s*(?:-|по|и)\s*(\d{1,2}))?\s+" + _MONTH_WORD + r"(?:\s+(\d{4}))?"
)
# dd.mm with a two-digit month, so that "2.5 часа" is not the 2nd of May.
_DATE_DOTS = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{2})(?:\.(\d{4}|\d{2}))?(?![\d])")

# "Nothing fits" said about tours or dates; a bare "no answer in the knowledge base" is not it.
_NOT_FOUND = r"(?:\bнет\b|не\s+нашл\w*|не\s+найд\w*|не\s+запланирован\w*|не\s+провод\w*|не\s+будет)"
_WHAT = r"(?:тур|экскурс|поезд|рейс|дат|мест|вариант|выходн|праздн|недел|месяц|сегодня|завтра)"
NO_MATCH = re.compile(
    _NOT_FOUND + r"[^.!?\n]{0,90}" + _WHAT + "|" + _WHAT + r"\w*[^.!?\n]{0,90}" + _NOT_FOUND
)
REDIRECT = re.compile(r"тур|экскурс|поезд|путешеств|брониров|достопримечат")


def normalize(text: str) -> str:
    """Lower case, ё -> е, every dash a "-", every other mark but ₽ % . , : / a space."""
    text = text.lower().replace("ё", "е")
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = re.sub(r"[^\w\s₽%.,:/-]", " ", text)
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text).strip()


def _words_pattern(text: str) -> re.Pattern[str]:
    words = re.findall(r"\w+", normalize(text))
    return re.compile(r"(?<!\w)" + r"[^\w]{1,6}".join(map(re.escape, words)) + r"(?!\w)")


@dataclass(frozen=True)
class Mention:
    kind: str  # "tour" or "faq"
    key: str  # slug or FAQ question
    start: int
    end: int


@dataclass
class Reading:
    """What one answer shows, in normalized text positions."""

    text: str
    mentions: list[Mention] = field(default_factory=list)  # first mention of each, in order
    tour_spans: list[Mention] = field(default_factory=list)  # every tour mention, in order
    figures: str = ""  # `text` with the FAQ entries shown blanked (same positions)

    @property
    def shown(self) -> list[Mention]:
        return self.mentions

    @property
    def tours(self) -> list[str]:
        return [m.key for m in self.mentions if m.kind == "tour"]

    @property
    def faq(self) -> list[str]:
        return [m.key for m in self.mentions if m.kind == "faq"]

    def segment(self, slug: str) -> str:
        """The part of the answer that speaks about this tour ("" if it is not shown)."""
        spans = self.tour_spans
        text = self.figures or self.text
        if {m.key for m in spans} == {slug}:
            return text
        parts = []
        for index, mention in enumerate(spans):
            if mention.key != slug:
                continue
            end = spans[index + 1].start if index + 1 < len(spans) else len(text)
            parts.append(text[mention.start : end])
        return " ".join(parts)


def read(answer: str, catalogue: Catalogue, page: str | None = None) -> Reading:
    text = normalize(answer)
    masked = text
    found: list[Mention] = []
    # Longest titles first, masking what they matched, so a title inside another is not found.
    for tour in sorted(catalogue.tours, key=lambda t: -len(t.title)):
        for pattern in (_words_pattern(tour.title), _slug_pattern(tour)):
            for match in pattern.finditer(masked):
                found.append(Mention("tour", tour.slug, match.start(), match.end()))
                masked = (
                    masked[: match.start()]
                    + " " * (match.end() - match.start())
                    + masked[match.end() :]
                )
    tour_spans = sorted(found, key=lambda m: m.start)
    if not tour_spans and page is not None and catalogue.tour(page) is not None:
        # On a tour's page an answer may speak of "the tour" without naming it.
        tour_spans = [Mention("tour", page, 0, 0)]
    faq_found = [m for entry in catalogue.faq if (m := _faq_mention(entry, text))]
    # Figures are read with the FAQ entries' own text blanked out: "если мест нет"
    # in a rules answer is not a tour's free places.
    figures = text
    for mention in faq_found:
        entry = next(e for e in catalogue.faq if e.question == mention.key)
        for sentence in [entry.question, *re.split(r"(?<=[.!?])\s+", entry.answer)]:
            if re.search(r"\w", sentence):
                figures = _words_pattern(sentence).sub(lambda m: " " * len(m.group()), figures)
    mentions: list[Mention] = []
    seen: set[tuple[str, str]] = set()
    for mention in sorted([*tour_spans, *faq_found], key=lambda m: m.start):
        if (mention.kind, mention.key) not in seen:
            seen.add((mention.kind, mention.key))
            mentions.append(mention)
    return Reading(text, mentions, tour_spans, figures)


def _slug_pattern(tour: TourFact) -> re.Pattern[str]:
    return re.compile(r"(?:/tours/)?(?<![\w-])" + re.escape(tour.slug) + r"(?![\w-])/?")


def _faq_mention(entry: FaqFact, text: str) -> Mention | None:
    candidates = [entry.question]
    candidates += [s for s in re.split(r"(?<=[.!?])\s+", entry.answer) if len(s.split()) >= 5]
    best: Mention | None = None
    for candidate in candidates:
        match = _words_pattern(candidate).search(text)
        if match and (best is None or match.start() < best.start):
            best = Mention("faq", entry.question, match.start(), match.end())
    return best


# --- figures ---------------------------------------------------------------------


def _number(token: str) -> int:
    return int(token) if token.isdigit() else NUMBER_WORDS[token]


_THOUSAND_WORDS = {
    "полтор": 1.5, "одн": 1, "две": 2, "два": 2, "двух": 2, "три": 3, "трех": 3, "четыр": 4,
    "пят": 5, "шест": 6, "сем": 7, "восем": 8, "восьм": 8, "девят": 9, "десят": 10,
}  # fmt: skip


def thousands_in_words(text: str) -> set[float]:
    """Sums written in words: "трех тысяч" -> 3000, "полторы тысячи" -> 1500."""
    found = set()
    for word in re.findall(r"(\w+)\s+тыс", text):
        for stem, value in _THOUSAND_WORDS.items():
            if word.startswith(stem):
                found.add(value * 1000)
                break
    return found


def prices(text: str) -> list[float]:
    found = []
    for match in _PRICE.finditer(text):
        whole = re.sub(r"\D", "", match.group(1))
        value = float(f"{whole}.{match.group(2)}") if match.group(2) else float(whole)
        if match.group(3):
            value *= 1000
        found.append(value)
    return found


def free_places(text: str) -> list[int]:
    found = [0] * len(_NO_PLACES.findall(text))
    taken: list[tuple[int, int]] = []  # one phrase read by two patterns counts once
    for pattern in _FREE:
        for match in pattern.finditer(text):
            start, end = match.span(1)
            if not any(start < other_end and other_start < end for other_start, other_end in taken):
                taken.append((start, end))
                found.append(_number(match.group(1)))
    return found


def hours(text: str) -> list[float]:
    return [float(f"{m.group(1)}.{m.group(2) or 0}") for m in _HOURS.finditer(text)]


def days(text: str) -> list[int]:
    found = [int(t) if t.isdigit() else _DAY_WORDS[t] for t in _DAYS.findall(text)]
    found += [n for word, n in _MULTI_DAY_WORDS.items() if word in text]
    return found


def nights(text: str) -> list[int]:
    found = []
    for token in _NIGHTS.findall(text):
        if token.isdigit():
            found.append(int(token))
        else:
            found.append(next(n for w, n in _NIGHT_WORDS.items() if token.startswith(w)))
    if "ночевк" in text or "ночлег" in text:
        found.append(1)
    return found


def dates(text: str, today: date) -> list[date]:
    """Every calendar date written, the year taken as the nearest one from today if missing."""
    found: list[date] = []
    for match in _DATE_WORDS.finditer(text):
        month = _month_number(match.group(3))
        year = int(match.group(4)) if match.group(4) else None
        for day_text in (match.group(1), match.group(2)):
            if day_text:
                parsed = _date(year, month, int(day_text), today)
                if parsed:
                    found.append(parsed)
    for match in _DATE_DOTS.finditer(text):
        day_, month = int(match.group(1)), int(match.group(2))
        year_text = match.group(3)
        year = None
        if year_text:
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        parsed = _date(year, month, day_, today)
        if parsed:
            found.append(parsed)
    return found


def _month_number(word: str) -> int:
    for stem, number in MONTHS.items():
        if word.startswith(stem):
            return number
    raise ValueError(word)


def _date(year: int | None, month: int, day: int, today: date) -> date | None:
    if not 1 <= month <= 12:
        return None
    years = [year] if year else [today.year, today.year + 1, today.year - 1]
    candidates = []
    for candidate_year in years:
        try:
            candidates.append(date(candidate_year, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    if year:
        return candidates[0]
    # Without a year: the first such day from a month ago on (answers speak of what is coming).
    upcoming = [c for c in candidates if c >= today - timedelta(days=31)]
    return min(upcoming) if upcoming else max(candidates)
