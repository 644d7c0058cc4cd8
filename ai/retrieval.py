"""One retrieval for both answer paths: tours and FAQ entries ranked for a question.

The offline answerer and the model's tools (`search_tours`, `search_faq`)
both call `search_tours` / `search_faq` here, so a question finds the same
tours whichever path answers it.

Text relevance is computed in Python over the (small) published catalogue:
every word is reduced to its dictionary forms (pymorphy3), a Latin-typed word
is read in Cyrillic, and a word found nowhere is matched to the catalogue's
nearest word (rapidfuzz, a typo) or by its stem (a place name pymorphy3 does
not know). Words weigh by where they match (title, place or alias, summary,
description) and by how rare they are in the catalogue (IDF), and a result
needs `MIN_SCORE`: one incidental shared word in a description never decides.

Facets (`ai.facets.Facets`: dates, place, budget, group size, children's
age, duration, sort) are hard filters; the question's other words still
rank what passes them. When the filters leave nothing, `TourSearch.emptied_by`
names the filters that did it and `nearest` holds the closest tours without
them, so an answer can say "такого тура нет" and offer something real.

Sync functions: call them through `database_sync_to_async`, one hop each.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cache, cached_property, lru_cache
from typing import Any

from django.db import connection
from django.utils import timezone
from rapidfuzz import fuzz, process

from ai import semantic
from ai.calendar import Period
from ai.russian import cyrillic, is_known_word, lemmas, part_of_speech, tokens
from tatartours.lean_rows import column, table
from tours.models import FaqEntry, SearchAlias, Tour

# A result needs this much evidence: a rare word in a title or summary, or two in a
# description (weights below times IDF, which is 1 for a word of one document).
MIN_SCORE = 1.5
# Results below this share of the best one are padding, not answers.
RELATIVE_CUTOFF = 0.45
# Typos: a word found nowhere is read as the catalogue's nearest word at this similarity.
FUZZY_CUTOFF = 80
MAX_RESULTS = 8
SPECIFIC_WORD = 1.5
EXTRA_FIELD = 0.25
RELATED_WORD = 0.6
# A word read by its meaning (`ai.semantic`: the theme it names):
# less than the word itself, enough for a title ("на природу" -> «Голубые озёра»).
MEANING_WORD = 0.8
# A theme named only by a word a facet took ("ребёнку 3 года" names the family theme),
# when the question's own words find tours too: background, below any word of the
# question ("..., можно на гастротур?" asks about that tour, not about games).
BACKGROUND_MEANING_WORD = 0.4
# Entries a memo of visitor words may hold before it starts again (arbitrary input).
MAX_MEMO = 20_000
# Related words by a shared stem ("вечером" ~ "вечерняя", "казанский" ~ "Казань").
STEM_MIN = 5
STEM_SHARE = 0.7
# Field weights: a title, a place, an alias, a FAQ question or its tags are headings.
HEADING = 3.0


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated block (readable word lists)."""
    return frozenset(text.split())


# Words that say nothing about which tour or entry fits (dictionary forms).
STOP = word_set(
    """
    а и или в во на по с со для до от у о об про за из к ко не ни ли же бы то что чтобы как
    какой какая какие который где когда куда откуда сколько есть быть мочь хотеть хотеться
    нужно надо нужный можно я мы вы ты он она они оно это этот тот весь свой ваш наш мой
    очень просто ещё уже там тут здесь так вот пожалуйста спасибо здравствуйте привет
    добрый подсказать сказать интересовать посоветовать нибудь самый ли бывать
    да нет если уж вообще также тоже иметься имеется либо чем при же ну а-то
    ещё вас нас вам нам мне меня себя кто
    """
)
# The site's own subject: every tour is a tour.
GENERIC = word_set(
    """
    тур туры экскурсия поездка путешествие программа поехать съездить сходить посетить
    посмотреть побывать экскурсионный туристический предложение вариант туристический
    интересный интересно красивый хороший лучший что-нибудь какой-нибудь куда-нибудь
    татарстан человек взрослый двое трое четверо пятеро вдвоём втроём
    жена муж супруг супруга друг подруга друзья родитель мама папа бабушка дедушка
    коллега
    """
)


# Time words say when, not what: a FAQ entry is not found by them ("сколько часов
# экскурсия" is not the "48 часов" of the cancellation rule).
TIME_WORDS = word_set(
    """
    час часы минута день неделя месяц год лет сутки сегодня завтра послезавтра выходной
    выходные суббота воскресенье понедельник вторник среда четверг пятница январь февраль
    март апрель май июнь июль август сентябрь октябрь ноябрь декабрь лето зима весна осень
    полдня начало середина конец
    """
)


@dataclass
class _Field:
    weight: float
    keys: frozenset[str]


@dataclass
class _Doc:
    """One tour or FAQ entry as the scorer sees it: its fields' word keys."""

    fields: list[_Field]

    @cached_property
    def keys(self) -> frozenset[str]:
        return frozenset().union(*(f.keys for f in self.fields))


@lru_cache(maxsize=8192)
def _keys(text: str) -> frozenset[str]:
    """A text's words and their dictionary forms (hyphenated words also by their parts)."""
    found: set[str] = set()
    for word in tokens(text):
        found.add(word)
        found |= lemmas(word)
        if "-" in word:
            for part in word.split("-"):
                found.add(part)
                found |= lemmas(part)
    # Stop words never match: "во сколько отправление" is not about a price.
    return frozenset(found - STOP)


# Keyed by the texts themselves, not by a row's `updated_at`: an UPDATE that
# bypasses `save()` leaves `updated_at` as it was.
_doc_cache: dict[tuple[str, ...], _Doc] = {}


def _cached_doc(key: tuple[str, ...], build: Any) -> _Doc:
    doc = _doc_cache.get(key)
    if doc is None:
        if len(_doc_cache) > 5000:
            _doc_cache.clear()
        doc = _doc_cache[key] = build()
    return doc


@dataclass(frozen=True)
class QueryWord:
    word: str
    keys: frozenset[str]  # catalogue keys this word matches
    related: bool = False  # matched only by a related stem ("вечером" ~ "вечерняя")
    meaning: bool = False  # stands for words of the same meaning ("природа" -> озеро, лес)
    background: bool = False  # a theme only a facet's word named, beside words that match

    @property
    def specific(self) -> bool:
        """A word the dictionary does not know is a name or a term ("гастротур",
        "Марджани"): specific, unlike an everyday word ("выбор") that any text may share."""
        return not is_known_word(self.word)

    @property
    def weight(self) -> float:
        if self.meaning:
            return BACKGROUND_MEANING_WORD if self.background else MEANING_WORD
        if self.related:
            return RELATED_WORD
        return SPECIFIC_WORD if self.specific else 1.0


class Matcher:
    """Reads a question's words against one collection's vocabulary."""

    def __init__(
        self,
        docs: list[_Doc],
        *,
        extra_field: float = 0.0,
        extra_words: frozenset[str] = frozenset(),
    ) -> None:
        """`extra_words` are vocabulary without being a document (they change no IDF)."""
        self.docs = docs
        self.extra_field = extra_field
        self.vocabulary: frozenset[str] = frozenset().union(*(d.keys for d in docs)) | extra_words
        self._sorted = sorted(self.vocabulary)
        self._idf: dict[tuple[frozenset[str], bool], float] = {}
        # A word's reading depends only on the word and the vocabulary, and the
        # matcher lives as long as its catalogue (`knowledge_base`): read once.
        self._reads: dict[str, tuple[frozenset[str], bool]] = {}
        # Words that named a theme (`ai.semantic`): a fact of the word and the
        # vocabulary too, and few (the themes' own words in their forms).
        self.meant: set[str] = set()

    def query_word(self, word: str) -> QueryWord:
        keys, related = self._read(word)
        return QueryWord(word, keys, related=related)

    def query_words(self, words: list[str], *, also: Sequence[str] = ()) -> list[QueryWord]:
        """The question's words, then the themes they name (`ai.semantic`).

        A theme named by any word ("на природу", "для семьи") adds the theme's
        words the catalogue holds, once per question, at `MEANING_WORD`. Words
        a facet took (`also`: "с ребёнком 10 лет" is an age) still name themes.
        """
        read = [self.query_word(w) for w in words]
        themes: set[str] = set()
        extra: list[QueryWord] = []
        own = {w.word: w.keys for w in read}
        # Words a facet took name a theme in the background when the question's
        # own words match the catalogue: they say who goes, not what to see.
        own_match = any(w.keys for w in read)
        for word in [*words, *(w for w in also if w not in own)]:
            for name in semantic.themes_named(lemmas(word) | {word}):
                keys = semantic.theme_keys(name, self.vocabulary) - own.get(word, frozenset())
                if keys:
                    self.meant.add(word)
                    if name not in themes:
                        themes.add(name)
                        background = own_match and word not in own
                        extra.append(
                            QueryWord(f"~{name}", keys, meaning=True, background=background)
                        )
        return read + extra

    def read(self, word: str) -> frozenset[str]:
        """The vocabulary keys `word` stands for: its forms, else its stem, else a typo's fix."""
        return self._read(word)[0]

    def _read(self, word: str) -> tuple[frozenset[str], bool]:
        """(keys, read only through a related stem), once per word."""
        done = self._reads.get(word)
        if done is None:
            if len(self._reads) >= MAX_MEMO:
                self._reads.clear()  # arbitrary visitor words: bounded
            done = self._reads[word] = self._read_now(word)
        return done

    def _read_now(self, word: str) -> tuple[frozenset[str], bool]:
        own = ({word} | lemmas(word)) & self.vocabulary
        if own:
            return frozenset(own), False
        related = False
        found: set[str] = set()
        known = is_known_word(word)
        if len(word) >= 4:
            # "фото" -> "фотограф"; "свияжске" -> "свияжск" (a stem the dictionary lacks).
            found = {
                key
                for key in self._sorted
                if (key.startswith(word) and len(key) - len(word) <= 6)
                or (
                    not known
                    and len(key) >= 5
                    and word.startswith(key)
                    and len(word) - len(key) <= 3
                )
            }
        if not found and known:
            found = self._same_stem(lemmas(word))
            related = bool(found)
        # A dictionary word is not a typo: "выходные" is never "входные".
        if not found and not known and len(word) >= 5:
            matches = process.extract(
                word, self._sorted, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=5
            )
            if matches:
                best = matches[0][1]
                found = {key for key, score, _ in matches if score >= best - 5}
                # A typo of a form is a typo of the word: "Свияжке" -> "Свияжске" -> Свияжск.
                found |= {f for key in found for f in lemmas(key)} & self.vocabulary
        return frozenset(found), related

    def _same_stem(self, forms: frozenset[str]) -> set[str]:
        """Vocabulary words sharing most of a stem with one of `forms`."""
        found: set[str] = set()
        for form in forms:
            if len(form) < STEM_MIN:
                continue
            head = form[:STEM_MIN]
            for key in self._sorted:
                if not key.startswith(head):
                    continue
                shared = _shared_prefix(form, key)
                if shared >= STEM_SHARE * min(len(form), len(key)):
                    found.add(key)
        return found

    def idf(self, keys: frozenset[str], *, heading: bool = False) -> float:
        """How rare a word is, from 1 (in one document only) down to nearly 0 (in all).

        A word counts for every document holding any of its forms, so all the
        documents it matches get the same weight for it. A heading match is
        rare among headings: "оператор" is in many FAQ answers but heads one
        entry. Scaled so that the thresholds mean the same with 3 tours or 300.
        """
        cached = self._idf.get((keys, heading))
        if cached is None:
            size = len(self.docs) + 1
            if heading:
                df = sum(
                    1
                    for doc in self.docs
                    if any(f.weight >= HEADING and f.keys & keys for f in doc.fields)
                )
            else:
                df = sum(1 for doc in self.docs if doc.keys & keys)
            cached = max(math.log(size / ((df or 1) + 0.5)) / math.log(size / 1.5), 0.05)
            self._idf[(keys, heading)] = cached
        return cached

    def score(self, doc: _Doc, words: list[QueryWord]) -> tuple[float, int]:
        """(score, words matched in a heading field): each word counts once, by its best field."""
        total, strong = 0.0, 0
        for word in words:
            if not word.keys:
                continue
            weights = [f.weight for f in doc.fields if f.keys & word.keys]
            if weights and word.meaning:
                # A theme's words are many, and none is rarer in meaning than another
                # ("озеро" is not less of nature for being in three tours): the field counts.
                total += max(weights) * word.weight
                continue
            if weights:
                best = max(weights)
                idf = self.idf(word.keys, heading=best >= HEADING) * word.weight
                # Found in more fields than one (a FAQ question and its tags): a tie-break.
                total += (best + self.extra_field * (len(weights) - 1)) * idf
                strong += best >= HEADING
        return total, strong


def _shared_prefix(a: str, b: str) -> int:
    count = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        count += 1
    return count


# Parts of speech that never tell tours apart: prepositions, conjunctions, particles,
# interjections, pronouns, numerals ("через", "либо", "ведь", "ой", "нечто", "две").
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO", "NUMR"})


# The few everyday words a visitor uses for what the FAQ and tours call otherwise
# (dictionary forms). Language, not catalogue data: names of places and sights are
# `tours.SearchAlias` rows instead.
SYNONYMS: dict[str, str] = {
    "дождь": "погода",
    "ливень": "погода",
    "снег": "погода",
    "гроза": "погода",
    "шторм": "погода",
    "мороз": "погода",
    # "как понять / проверить, что места есть": how to find out.
    "понять": "узнать",
    "проверить": "узнать",
    "малыш": "ребенок",
    "сын": "ребенок",
    "дочь": "ребенок",
    "дочка": "ребенок",
    "школьник": "ребенок",
    "подросток": "ребенок",
    "младенец": "ребенок",
    "внук": "ребенок",
    "внучка": "ребенок",
    "детский": "ребенок",
    "пёс": "собака",
    "пес": "собака",
    "щенок": "собака",
    "кот": "кошка",
    "колясочник": "коляска",
    "инвалид": "маломобильный",
    "пожилой": "пожилые",
    "наличные": "наличными",
    "одеться": "одежда",
    "одеваться": "одежда",
    "надеть": "одежда",
    "одеть": "одежда",
    "обувь": "одежда",
    "обуться": "обувь",
    # The other aspect of the verb: "что с собой брать" is "что взять с собой".
    "брать": "взять",
    "захватить": "взять",
}
# The verb "есть" (to eat) in its forms that are not "there is", and its kin.
EATING = (
    r"\b(?:едят|едим|едите|поедим|поедят|поесть|съед\w*|съесть|"
    r"покуша\w*|куша(?:ть|ем|ют|ете)|перекус\w*|попробу\w*|попробова\w*|угоща\w*|угост\w*)\b"
)
_EATING = re.compile(EATING)
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"через\s+сколько|как\s+скоро|как\s+долго|какой\s+срок|в\s+течение"), "срок"),
    (re.compile(r"во\s+сколько|откуда\s+(?:отправ|выезд)\w*"), "отправление"),
    # "возрастные ограничения", "с какого возраста": a child's age is the children's rule
    # (not "ограниченной подвижностью" by the word "ограничения").
    (re.compile(r"\bвозраст\w*"), "ребенок"),
    # "как к вам добраться", "как до вас доехать", "где вы находитесь", "ваш адрес":
    # to us is to where the tours start (the FAQ names no office; the meeting point is
    # where a visitor finds us).
    (
        re.compile(
            r"\b(?:к\s+вам|до\s+вас)\b.{0,25}\b(?:добра|добир|доех|доезж|прий|приех|подъех)\w*"
            r"|\b(?:добра|добир|доех|доезж|прий|приех|подъех)\w*.{0,25}\b(?:к\s+вам|до\s+вас)\b"
            r"|\bгде\s+(?:вы\s+)?(?:находитесь|располагаетесь|расположены|ваш\s+офис)\b"
            r"|\b(?:ваш|какой\s+у\s+вас)\s+адрес\b|\bадрес\s+(?:офиса|агентства|компании)\b"
        ),
        "сбор",
    ),
    # How or by what one pays ("можно ли платить картой на месте", "как заплатить"): the
    # payment entry's "оплатить", not the "место" of "на месте". "сколько платить за
    # ребёнка" asks a price.
    (
        re.compile(
            r"\b(?:как|чем|где|когда|можно)\b.{0,20}\b(?:за|рас)?плат(?:ить|ят|им|ишь|ите|иться|иваться)\b"
            r"|\b(?:за|рас)?плат(?:ить|ят|им|ишь|ите|иться|иваться)\b.{0,30}"
            r"\b(?:карт|налич|сбп|сч[её]т|онлайн|перевод)\w*"
        ),
        "оплатить",
    ),
    # "что там едят", "где поедим": eating, though "едят" is a form of "есть" (a stop word).
    (_EATING, "еда"),
    # "что взять с собой", "что брать": which things, not whether one may take a dog along.
    (re.compile(r"\bчто\s+(?:\w+\s+){0,2}(?:взять|брать|захватить|положить|надеть)\b"), "вещь"),
    # "если я не приду", "опоздаю", "не успею к отправлению", "пропущу экскурсию": the
    # visitor not showing up, the cancellation rule's no-show clause ("при неявке"), not
    # the refund's timing that "приду" shares a verb with ("когда придут деньги").
    (
        re.compile(
            r"\bне\s+(?:(?:с|у)?могу\s+|получится\s+)?(?:при(?:ду|дем|дём|йти|ехать|еду|едем|шел|шла|шли)|"
            r"успе(?:ю|ем|ли|л|ла)|явл\w*|яви\w*|поед(?:у|ем))\b"
            r"|\bопозда\w*|\bопаздыва\w*|\bпропущ\w*|\bпропуст\w*|\bнеявк\w*"
        ),
        "неявка",
    ),
    # "группа не набралась", "тур не состоится": the trip does not take place.
    (
        re.compile(
            r"\bне\s+состо(?:ится|ятся|ялся|ялась|ялось)\b|\bне\s+наб(?:ер|ра)\w*|\bнедобор"
        ),
        "состояться",
    ),
    # The trip called off and the money ("экскурсия была отменена, что с оплатой"): the
    # money back, not how to pay.
    (
        re.compile(
            r"\bсостоится\b.{0,40}\b(?:оплат|деньг|денег|средств|заплач|плат[иеёя])\w*"
            r"|\b(?:оплат|деньг|денег|средств|заплат|заплач)\w*.{0,40}\bсостоится\b"
        ),
        "возврат",
    ),
)
# The company calls a trip off ("тур отменили", "если экскурсию отменят", "вы отменили"),
# which is not the visitor cancelling a booking ("отменю", "отменить бронь") though both
# are the verb "отменить": read as "не состоится" in questions and FAQ entries alike, so
# "тур отменили из-за погоды, как вернуть деньги" is not the visitor's cancellation rule.
_COMPANY_CANCELS = re.compile(
    r"(?<!\bя\s)(?<!\bмы\s)\b(?P<past>отменил(?:и|ся|ась|ось|ись))\b|\b(?P<future>отмен(?:ят|яют|ит|ится|яется|ятся)\b|(?<=\bвы\s)отмените\b"
    r"(?!\s+(?:мне\s+|нам\s+)?(?:мо|наш|сво|брон|заказ)))"
    r"|\b(?:тур|рейс|экскурси\w*|поездк\w*)\s+(?:был\w*\s+)?(?P<passive>отмен[её]н\w*)",
    re.IGNORECASE,
)


def company_cancels(text: str) -> str:
    """The text with a trip the company calls off said as "состоится" (`_COMPANY_CANCELS`)."""

    def said(match: re.Match[str]) -> str:
        name = next(n for n in ("past", "future", "passive") if match.group(n))
        start, end = match.span(name)
        whole = match.group(0)
        return whole[: start - match.start()] + "состоится" + whole[end - match.start() :]

    return _COMPANY_CANCELS.sub(said, text)


def phrase_words(text: str) -> list[str]:
    """The knowledge base's words for the question's phrases ("не приду" -> неявка)."""
    lowered = company_cancels(cyrillic(text)).lower().replace("ё", "е")
    return [word for pattern, word in _PHRASES if pattern.search(lowered)]


def content_words(text: str, *, ignore: frozenset[str] = frozenset()) -> list[str]:
    """The question's words that can tell answers apart (no stop words, numbers, facets).

    Everyday synonyms (`SYNONYMS`) and a few phrases ("через сколько" -> срок)
    add the word the knowledge base uses; the visitor's own word stays too.
    """
    found: list[str] = []
    extra = phrase_words(text)
    text = company_cancels(text)
    for word in tokens(text):
        for form in lemmas(word):
            if form in SYNONYMS:
                extra.append(SYNONYMS[form])
        forms = lemmas(word)
        if len(word) < 3 or word.isdigit() or forms & STOP or word in STOP:
            continue
        if forms & ignore or word in ignore or part_of_speech(word) in _FUNCTION_POS:
            continue
        if word not in found:
            found.append(word)
    # An ignored word stays ignored through its synonym: "внуку 8 лет" searched tours
    # for "ребенок" though the age facet took the child.
    found += [word for word in extra if word not in found and word not in ignore]
    return found[:24]


# --- tours ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TourRow:
    """A tour as the answers use it: the catalogue's facts, never the model's."""

    pk: int
    slug: str
    title: str
    place: str
    short_description: str
    description: str
    start_date: date
    end_date: date
    duration_hours: int
    price_per_person: Decimal
    max_participants: int
    places_booked: int
    updated_at: datetime | None = None

    @property
    def free_places(self) -> int:
        return max(self.max_participants - self.places_booked, 0)

    @property
    def nights(self) -> int:
        return (self.end_date - self.start_date).days

    @property
    def min_age(self) -> int | None:
        """The age limit the description states ("для детей от 8 лет"), if any."""
        match = _AGE_LIMIT.search(f"{self.short_description} {self.description}")
        return int(match.group(1)) if match else None

    def data(self) -> dict[str, Any]:
        price = self.price_per_person
        return {
            "slug": self.slug,
            "title": self.title,
            "place": self.place,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "duration_hours": self.duration_hours,
            "nights": self.nights,
            "price_per_person": int(price) if price == price.to_integral_value() else float(price),
            "currency": "RUB",
            "free_places": self.free_places,
            "min_age": self.min_age,
            "url": f"/tours/{self.slug}/",
        }


_AGE_LIMIT = re.compile(r"(?:дет\w*|ребен\w*|ребён\w*)\s+(?:от|старше)\s+(\d{1,2})\s*(?:лет|года?)")
_TOUR_FIELDS = (
    "pk",
    "slug",
    "title",
    "place",
    "short_description",
    "description",
    "start_date",
    "end_date",
    "duration_hours",
    "price_per_person",
    "max_participants",
    "places_booked",
    "updated_at",
)


@dataclass(frozen=True)
class Alias:
    name: str
    place: str
    tour_slug: str
    keys: tuple[frozenset[str], ...]  # one key set per word of the name


@dataclass
class Catalogue:
    """One read of the published upcoming tours and the aliases (one DB hop).

    Read-only once loaded: the process keeps the current one (`knowledge_base`)
    with what it computed from it (documents, vocabulary, word readings), and
    answers share it, from the event loop and the DB thread alike.
    """

    tours: list[TourRow]
    aliases: list[Alias]
    today: date
    _matcher: Matcher | None = None
    _named: dict[tuple[str, bool], tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict
    )

    @classmethod
    def load(cls, today: date | None = None) -> Catalogue:
        today = today or timezone.localdate()
        rows = (
            Tour.objects.published()
            .filter(start_date__gte=today)
            .order_by("start_date", "title")
            .values_list(*_TOUR_FIELDS)
        )
        tours = [TourRow(*row) for row in rows]
        slugs = {t.pk: t.slug for t in tours}
        aliases = [
            Alias(
                name=name,
                place=place,
                tour_slug=slugs.get(tour_id, "") if tour_id else "",
                keys=tuple(_keys(word) for word in tokens(name)),
            )
            for name, place, tour_id in SearchAlias.objects.values_list("name", "place", "tour_id")
        ]
        return cls(tours=tours, aliases=aliases, today=today)

    @classmethod
    def current(cls, today: date | None = None) -> Catalogue:
        """The process's catalogue for `today`, read again only when it changed."""
        return knowledge_base(today or timezone.localdate()).catalogue

    def doc(self, tour: TourRow) -> _Doc:
        # An alias counts only whole (see `places_named`): "озеро Кабан" must not
        # make every question about lakes point at the Tatar Sloboda.
        def build() -> _Doc:
            return _Doc(
                [
                    _Field(HEADING, _keys(tour.title)),
                    _Field(HEADING, _keys(tour.place)),
                    _Field(2.0, _keys(tour.short_description)),
                    _Field(1.0, _keys(tour.description)),
                ]
            )

        return _cached_doc(
            ("tour", tour.title, tour.place, tour.short_description, tour.description), build
        )

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            # Alias words are vocabulary too (a question says "Булгар"), without changing IDF.
            extra = frozenset().union(*(k for a in self.aliases for k in a.keys))
            self._matcher = Matcher([self.doc(t) for t in self.tours], extra_words=extra)
        return self._matcher

    @cached_property
    def places(self) -> list[str]:
        return sorted({t.place for t in self.tours})

    @cached_property
    def home_place(self) -> str | None:
        """The city most tours are in (Казань): what "за городом" is away from."""
        counts = Counter(t.place for t in self.tours)
        return counts.most_common(1)[0][0] if counts else None

    @cached_property
    def _place_parts(self) -> list[tuple[str, tuple[frozenset[str], ...]]]:
        return [(place, tuple(_keys(word) for word in tokens(place))) for place in self.places]

    def places_named(self, text: str, *, aliases: bool = True) -> tuple[list[str], list[str]]:
        """(places, tour slugs) the text names: by a tour's place or an alias, in any form."""
        key = (text, aliases)
        done = self._named.get(key)
        if done is None:
            if len(self._named) >= MAX_MEMO:
                self._named.clear()  # arbitrary visitor text: bounded
            places, slugs = self._places_named(text, aliases=aliases)
            done = self._named[key] = (tuple(places), tuple(slugs))
        # Fresh lists: callers edit them (`ai.facets.read_question`).
        return list(done[0]), list(done[1])

    def _places_named(self, text: str, *, aliases: bool) -> tuple[list[str], list[str]]:
        words = tokens(text)
        read = [(w, self.matcher.read(w) | lemmas(w) | {w}) for w in words]

        def close(word: str, forms: frozenset[str], part: frozenset[str]) -> bool:
            if part & forms:
                return True
            # A place name with a typo or in another case form: "Свияжке", "Елабугу".
            return any(
                len(key) >= 5 and (word.startswith(key) or fuzz.ratio(word, key) >= FUZZY_CUTOFF)
                for key in part
            )

        def named(parts: tuple[frozenset[str], ...]) -> bool:
            return bool(parts) and all(any(close(w, r, p) for w, r in read) for p in parts)

        places = [place for place, parts in self._place_parts if named(parts)]
        slugs: list[str] = []
        for alias in self.aliases if aliases else []:
            if named(alias.keys):
                if alias.place and alias.place not in places:
                    places.append(alias.place)
                if alias.tour_slug and alias.tour_slug not in slugs:
                    slugs.append(alias.tour_slug)
        return places, slugs


SORTS = ("relevance", "price", "-price", "date", "duration", "-duration")


@dataclass(frozen=True)
class TourQuery:
    """What to look for: the question's words and its facets (all optional)."""

    text: str = ""
    period: Period | None = None
    date_from: date | None = None
    date_to: date | None = None
    places: tuple[str, ...] = ()
    not_places: tuple[str, ...] = ()  # "за городом", "из Казани": away from these
    tour_slugs: tuple[str, ...] = ()  # named by an alias ("Кул-Шариф")
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_free_places: int | None = None
    child_age: int | None = None
    max_hours: int | None = None
    overnight: bool | None = None  # True: with a night; False: within a day
    sort: str = "relevance"

    def filters(self) -> list[str]:
        """The names of the active hard filters, in the order an answer explains them."""
        active = []
        if self.period is not None or self.date_from or self.date_to:
            active.append("dates")
        if self.places or self.not_places:
            active.append("place")
        if self.min_price is not None or self.max_price is not None:
            active.append("price")
        if self.min_free_places:
            active.append("free_places")
        if self.child_age is not None:
            active.append("age")
        if self.max_hours is not None or self.overnight is not None:
            active.append("duration")
        return active

    def without(self, name: str) -> TourQuery:
        if name == "dates":
            return replace(self, period=None, date_from=None, date_to=None)
        if name == "place":
            return replace(self, places=(), not_places=())
        if name == "price":
            return replace(self, min_price=None, max_price=None)
        if name == "free_places":
            return replace(self, min_free_places=None)
        if name == "age":
            return replace(self, child_age=None)
        if name == "duration":
            return replace(self, max_hours=None, overnight=None)
        if name == "text":
            return replace(self, text="", tour_slugs=())
        raise ValueError(name)


@dataclass
class RankedTour:
    tour: TourRow
    score: float = 0.0
    place_match: bool = False


@dataclass
class TourSearch:
    """The outcome of one search: what fits, and when nothing does, why and what is nearest."""

    query: TourQuery
    tours: list[TourRow]
    total: int
    text_matched: bool  # the question's own words found these (not only the facets)
    best_score: float = 0.0
    unmatched_words: list[str] = field(default_factory=list)
    # Words that found tours only by the theme they name ("кормят" -> обед, дегустация).
    theme_only_words: list[str] = field(default_factory=list)
    emptied_by: list[str] = field(default_factory=list)
    nearest: list[TourRow] = field(default_factory=list)


def _passes(tour: TourRow, query: TourQuery, place_keys: dict[str, frozenset[str]]) -> bool:
    if query.period is not None and not query.period.contains(tour.start_date):
        return False
    if query.date_from and tour.start_date < query.date_from:
        return False
    if query.date_to and tour.start_date > query.date_to:
        return False
    if query.places and not _place_match(tour, query, place_keys):
        return False
    if query.not_places and tour.place in query.not_places:
        return False
    if query.max_price is not None and tour.price_per_person > query.max_price:
        return False
    if query.min_price is not None and tour.price_per_person < query.min_price:
        return False
    if query.min_free_places and tour.free_places < query.min_free_places:
        return False
    if query.child_age is not None and (tour.min_age or 0) > query.child_age:
        return False
    if query.max_hours is not None and (tour.duration_hours > query.max_hours or tour.nights):
        return False
    return not (query.overnight is not None and (tour.nights > 0) != query.overnight)


def _place_match(tour: TourRow, query: TourQuery, place_keys: dict[str, frozenset[str]]) -> bool:
    """The tour is at the place, or its title names it (the Volga cruise calls at Sviyazhsk)."""
    if tour.place in query.places:
        return True
    title = _keys(tour.title)
    return any(place_keys[p] and place_keys[p] <= title for p in query.places)


def _order(ranked: list[RankedTour], sort: str) -> list[RankedTour]:
    def by_date(r: RankedTour) -> tuple[Any, ...]:
        return (r.tour.start_date, r.tour.title)

    if sort == "price":
        return sorted(ranked, key=lambda r: (r.tour.price_per_person, *by_date(r)))
    if sort == "-price":
        return sorted(ranked, key=lambda r: (-r.tour.price_per_person, *by_date(r)))
    if sort == "duration":
        return sorted(ranked, key=lambda r: (r.tour.nights, r.tour.duration_hours, *by_date(r)))
    if sort == "-duration":
        return sorted(ranked, key=lambda r: (-r.tour.nights, -r.tour.duration_hours, *by_date(r)))
    if sort == "date":
        return sorted(ranked, key=by_date)
    return sorted(ranked, key=lambda r: (-r.score, not r.place_match, *by_date(r)))


def _ranked(
    catalogue: Catalogue, query: TourQuery, words: list[QueryWord]
) -> tuple[list[RankedTour], bool]:
    """Tours passing the filters, scored; (tours, whether the words decided them)."""
    place_keys = {p: _keys(p) for p in query.places}
    passing = [t for t in catalogue.tours if _passes(t, query, place_keys)]
    ranked = []
    for tour in passing:
        score, _matched = catalogue.matcher.score(catalogue.doc(tour), words)
        if tour.slug in query.tour_slugs:
            score += 2 * MIN_SCORE
        ranked.append(RankedTour(tour, score, tour.place in query.places))
    best = max((r.score for r in ranked), default=0.0)
    if best >= MIN_SCORE:
        floor = max(MIN_SCORE, best * RELATIVE_CUTOFF)
        return [r for r in ranked if r.score >= floor], True
    # Below the minimum the words decide nothing, not even the order.
    for r in ranked:
        r.score = 0.0
    return ranked, False


def search_tours(
    query: TourQuery,
    *,
    catalogue: Catalogue | None = None,
    limit: int = MAX_RESULTS,
    require_text: bool = False,
    ignore: frozenset[str] = frozenset(),
) -> TourSearch:
    """Tours for `query`, best first; with `require_text`, the words must find something.

    Without facets and without matching words nothing is returned: a
    question the catalogue has no answer for gets no tours as padding.
    """
    catalogue = catalogue or Catalogue.current()
    words = catalogue.matcher.query_words(
        content_words(query.text, ignore=ignore | GENERIC),
        also=content_words(query.text, ignore=GENERIC),
    )
    unmatched = [w.word for w in words if not w.keys and w.word not in catalogue.matcher.meant]
    ranked, text_matched = _ranked(catalogue, query, words)
    has_facets = bool(query.filters()) or query.sort != "relevance"
    if not text_matched and (require_text or not has_facets):
        ranked = []
    naming = [w for w in words if w.keys and not w.related and not w.meaning]
    if not text_matched and has_facets and query.filters() and naming:
        # The words name tours the filters leave out ("нас 4 человека, на гастротур" with
        # one free place): say so, rather than list unrelated tours that pass. Only a
        # title-level match or a name counts: "на природу" in winter lists winter tours.
        anywhere, named = _ranked(catalogue, _unfiltered(query), naming)
        strong = max((r.score for r in anywhere), default=0.0) >= HEADING
        if named and (strong or any(w.specific for w in naming)):
            ranked = []
            require_text = True
    ordered = [r.tour for r in _order(ranked, query.sort)]
    best = max((r.score for r in ranked), default=0.0)
    result = TourSearch(query, ordered[:limit], len(ordered), text_matched, best)
    result.unmatched_words = unmatched
    result.theme_only_words = [
        w.word for w in words if not w.keys and w.word in catalogue.matcher.meant
    ]
    if not ordered and (query.filters() or (require_text and words)):
        _explain_empty(catalogue, query, words, result, limit, require_text)
    return result


def _unfiltered(query: TourQuery) -> TourQuery:
    for name in query.filters():
        query = query.without(name)
    return query


_RELAX_ORDER = ["age", "free_places", "price", "duration", "dates", "place"]


def _explain_empty(
    catalogue: Catalogue,
    query: TourQuery,
    words: list[QueryWord],
    result: TourSearch,
    limit: int,
    require_text: bool,
) -> None:
    """Which filters emptied the search, and the nearest tours without them."""
    names = query.filters() + (["text"] if require_text and words else [])
    emptying = []
    # A facet that alone left out what the words found is the reason; the words
    # themselves only when no facet is ("нас 4 человека, на гастротур": free places).
    # Several filters may each be the one to drop; the place (what the question is
    # about) goes last: "сыну 6 лет, в Иннополис?" is about Innopolis, not any tour.
    for name in sorted(query.filters(), key=_RELAX_ORDER.index):
        ranked, matched = _ranked(catalogue, query.without(name), words)
        if ranked and (matched or not (require_text and words)):
            emptying.append(name)
            break
    if not emptying and "text" in names and _ranked(catalogue, query.without("text"), words)[0]:
        emptying = ["text"]
    if not emptying:
        emptying = names
    result.emptied_by = emptying
    relaxed = query
    for name in emptying:
        relaxed = relaxed.without(name)
    ranked, matched = _ranked(catalogue, relaxed, words)
    if not matched and "text" not in emptying and require_text:
        ranked = []
    result.nearest = [r.tour for r in _nearest(ranked, query, emptying)][: min(limit, 3)]


def _nearest(ranked: list[RankedTour], query: TourQuery, emptying: list[str]) -> list[RankedTour]:
    """Closest first by what the emptying filter asked: price, date or free places."""
    if "price" in emptying and query.max_price is not None:
        limit = query.max_price
        return sorted(ranked, key=lambda r: (abs(r.tour.price_per_person - limit), -r.score))
    if "dates" in emptying:
        target = (
            query.period.start
            if query.period is not None
            else query.date_from or query.date_to or date.min
        )
        return sorted(ranked, key=lambda r: (abs((r.tour.start_date - target).days), -r.score))
    if "free_places" in emptying:
        return sorted(ranked, key=lambda r: (-r.tour.free_places, r.tour.start_date))
    return _order(ranked, query.sort if query.sort != "relevance" else "relevance")


# --- FAQ ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaqHit:
    id: int
    question: str
    answer: str
    rank: float
    tags: str = ""

    @property
    def is_policy(self) -> bool:
        return POLICY_TAG in self.tags.lower()


POLICY_TAG = "правила"
# A FAQ entry needs more than a tour: its answer texts are long and general.
FAQ_MIN_SCORE = 1.5


@dataclass
class Faq:
    entries: list[tuple[int, str, str, str, datetime | None]]
    _matcher: Matcher | None = None

    @classmethod
    def load(cls) -> Faq:
        rows = FaqEntry.objects.filter(is_published=True).order_by("position", "id")
        return cls(list(rows.values_list("id", "question", "answer", "tags", "updated_at")))

    @classmethod
    def current(cls) -> Faq:
        """The process's published FAQ, read again only when it changed."""
        return knowledge_base().faq

    def doc(self, entry: tuple[int, str, str, str, datetime | None]) -> _Doc:
        _pk, question, answer, tags, _updated = entry

        def build() -> _Doc:
            # "Что будет, если тур отменят": the company calls it off, as questions read it.
            return _Doc(
                [
                    _Field(3.0, _keys(company_cancels(question))),
                    _Field(3.0, _keys(company_cancels(tags))),
                    _Field(1.0, _keys(company_cancels(answer))),
                ]
            )

        return _cached_doc(("faq", question, tags, answer), build)

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = Matcher([self.doc(e) for e in self.entries], extra_field=EXTRA_FIELD)
        return self._matcher


def search_faq(text: str, limit: int = 3, *, faq: Faq | None = None) -> list[FaqHit]:
    """FAQ entries for a question, best first, each above the minimum relevance."""
    faq = faq or Faq.current()
    if not faq.entries or limit <= 0:
        return []
    words = [faq.matcher.query_word(w) for w in content_words(text, ignore=GENERIC | TIME_WORDS)]
    scored = []
    for entry in faq.entries:
        score, strong = faq.matcher.score(faq.doc(entry), words)
        # An entry's answer text alone shares words with many questions: it must
        # match in its question or tags, or share three words with the answer.
        if score >= FAQ_MIN_SCORE and (strong or score >= 3 * FAQ_MIN_SCORE):
            scored.append((score, strong, entry))
    if not scored:
        return []
    best = max(s for s, _, _ in scored)
    scored = [s for s in scored if s[0] >= best * 0.5]
    scored.sort(key=lambda s: -s[0])
    return [
        FaqHit(entry[0], entry[1], entry[2], round(score, 3), entry[3])
        for score, _, entry in scored[:limit]
    ]


# --- the process's copy of the knowledge base ------------------------------------------------


@dataclass(frozen=True)
class KnowledgeBase:
    """The catalogue and the FAQ as of `stamp`, for answers on `today`."""

    today: date
    stamp: str
    catalogue: Catalogue
    faq: Faq


@cache
def knowledge_stamp_sql() -> str:
    """An SQL expression (no parameters) that changes when a row the knowledge base reads does.

    Per table: every row's id with its `xmin` (the id of the transaction that
    wrote that row version), in id order, as one md5. PostgreSQL writes a new
    row version for every INSERT and UPDATE (also an `update()` that bypasses
    `save()`, such as a booking's `places_booked`, and a raw one), so any
    committed write changes the list: a new or rewritten row brings its
    writer's id, a deleted one leaves the list. VACUUM FREEZE may show a
    row's `xmin` as the frozen id (2): that changes it too, and costs one
    extra read, never a stale answer. No row is sent back, only 3 x 32
    characters. Read before the rows, so rows read after it are at least as
    new as the stamp says.
    """
    parts = [
        f"(SELECT md5(coalesce(string_agg({column(model, 'id')} || '.' || xmin::text, ',' "
        f"ORDER BY {column(model, 'id')}), '')) FROM {table(model)})"
        for model in (Tour, FaqEntry, SearchAlias)
    ]
    return " || ':' || ".join(parts)


def knowledge_stamp() -> str:
    """The stamp of the knowledge base's tables now (one statement; `chat.actions` reads it
    with the chat's context instead, in a statement it runs anyway)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {knowledge_stamp_sql()}")
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


_current: KnowledgeBase | None = None
_loading = threading.Lock()


def cached_knowledge_base(today: date, stamp: str | None) -> KnowledgeBase | None:
    """The process's knowledge base if it is the one of `stamp` on `today` (no DB)."""
    current = _current
    if (
        current is not None
        and stamp is not None
        and (current.today, current.stamp)
        == (
            today,
            stamp,
        )
    ):
        return current
    return None


def knowledge_base(today: date | None = None, stamp: str | None = None) -> KnowledgeBase:
    """The catalogue and FAQ as the database holds them now (sync; DB only on a change).

    Tours, FAQ entries and aliases edited in the admin, by a command or by
    another process show up in the next answer: every call not given a
    `stamp` (read in the same DB hop as the chat's context, `chat.actions`)
    reads it, and a different stamp reads everything again. One copy per
    process, replaced whole (readers on other threads keep the one they have).
    """
    global _current
    today = today or timezone.localdate()
    if stamp is None:
        stamp = knowledge_stamp()
    found = cached_knowledge_base(today, stamp)
    if found is not None:
        return found
    with _loading:  # one read when several answers find the same change
        found = cached_knowledge_base(today, stamp)
        if found is None:
            found = KnowledgeBase(today, stamp, Catalogue.load(today), Faq.load())
            _current = found
    return found


def forget_knowledge_base() -> None:
    """Read everything again on the next answer (tests that rebuild the database)."""
    global _current
    _current = None
