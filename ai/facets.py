"""The facets a tourist's question names: dates, place, budget, group, children, duration, sort.

Read from plain Russian for the offline answerer (the model fills the same
facets as `search_tours` arguments). Each facet keeps the words it was read
from out of the text search, but every other word of the question stays.

- dates: `ai.calendar` (holidays, relative dates, months, seasons);
- place: a tour's place or a `tours.SearchAlias`, in any word form, typo or Latin;
- budget: "до 5000", "не дороже 3 тыс", "3-4 тысячи", "от 2000 до 4000",
  "бюджет 5000 на двоих" (per person: 2500), "подешевле"/"самая дешёвая" (a sort);
- group: "нас 5 человек", "группа 12 человек", "на двоих", "вдвоём";
- children: "с детьми", "ребёнку 6 лет" (against a tour's age limit);
- duration: "на полдня", "на пару часов", "с ночёвкой", "на два дня", "сколько длится";
- sort: cheapest, most expensive, soonest, shortest, longest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ai.calendar import Period, normalize, periods_in
from ai.retrieval import Catalogue, TourQuery, word_set
from ai.russian import cyrillic, tokens

_NUMBER_WORDS = {
    "один": 1,
    "одна": 1,
    "одного": 1,
    "два": 2,
    "две": 2,
    "двух": 2,
    "двое": 2,
    "двоих": 2,
    "вдвоем": 2,
    "три": 3,
    "трех": 3,
    "трое": 3,
    "троих": 3,
    "втроем": 3,
    "четыре": 4,
    "четырех": 4,
    "четверо": 4,
    "четверых": 4,
    "вчетвером": 4,
    "пять": 5,
    "пяти": 5,
    "пятеро": 5,
    "пятерых": 5,
    "впятером": 5,
    "шесть": 6,
    "шести": 6,
    "шестеро": 6,
    "шестерых": 6,
    "семь": 7,
    "семи": 7,
    "семеро": 7,
    "восемь": 8,
    "восьми": 8,
    "девять": 9,
    "десять": 10,
    "десяти": 10,
    "двенадцать": 12,
    "пятнадцать": 15,
    "двадцать": 20,
}
_NUM = r"(\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_PEOPLE = (
    r"(?:человек\w*|чел\b|взросл\w*|туристов|участник\w*|персон\w*|гост\w*|"
    r"учител\w*|родител\w*|сопровожда\w*|воспитател\w*|педагог\w*)"
)

_NOT_MONEY = r"(?!\s*(?:тыс|т\.?р|к\b|k\b|руб|₽|р\b|р\.|000))"
# "у нас 3 свободных дня", "у нас 4 часа": the time the visitor has, not a head count.
_NOT_TIME = (
    r"(?!\s+(?:\w+(?:ых|их|ый|ий|ое|ее)\s+)?(?:дн[яей]\w*|день|час\w*|минут\w*|недел\w*"
    r"|ноч\w*|сут\w*))"
)
_GROUP_PATTERNS = (
    re.compile(
        rf"\b(?:нас|группа|группой|компания|компанией|семья|семьей)\s+(?:из\s+)?{_NUM}\b"
        rf"{_NOT_MONEY}{_NOT_TIME}"
    ),
    re.compile(rf"\b{_NUM}\s+{_PEOPLE}"),
    # "на пятерых", and the everyday "на пятеро"
    re.compile(
        r"\b(?:на|для)\s+(двоих|троих|четверых|пятерых|шестерых|двое|трое|четверо|пятеро|шестеро)\b"
    ),
    re.compile(r"\b(вдвоем|втроем|вчетвером|впятером)\b"),
    re.compile(r"\bнас\s+(двое|трое|четверо|пятеро|шестеро|семеро)\b"),
)
_CHILDREN_COUNT = re.compile(rf"\b{_NUM}\s+(?:дет\w*|ребен\w*|ребят\w*)")
# A child by any of the words a parent or grandparent writes: the same list for
# "с ребёнком", "ребёнку 6 лет" and "10-летним сыном" ("внуку 8 лет" and "со
# школьником 12 лет" were a child only for some of the three).
_A_CHILD = (
    r"(?:дет\w*|ребен\w*|малыш\w*|сын\w*|доч\w*|внук\w*|внуч\w*|школьник\w*|школьниц\w*"
    r"|подрост\w*)"
)
_WITH_CHILD = re.compile(rf"\b(?:с|со)\s+{_A_CHILD}")
_CHILD_WORD = re.compile(rf"\b{_A_CHILD}")
_CHILD_AGE = re.compile(
    rf"\b{_A_CHILD}\D{{0,12}}?(\d{{1,2}})\s*(?:лет|год|года|г\b)"
    rf"|\b(\d{{1,2}})\s*(?:лет|год|года|-?летн\w*)\D{{0,12}}?{_A_CHILD}"
)

_AMOUNT = r"(\d[\d\s]*(?:[.,]\d+)?)\s*(тыс\w*|т\.?р\.?|к\b|k\b)?"
_MAX_PRICE = re.compile(
    rf"\b(?:до|не\s+дороже|дешевле|меньше|не\s+больше|в\s+пределах|максимум|макс|"
    rf"бюджет(?:ом)?|за|в)\s+{_AMOUNT}\s*(?:руб\w*|₽|р\b|р\.)?"
)
# A sum with its unit anywhere ("10 тыс на семью", "3000 рублей"): the budget.
_MONEY = re.compile(
    r"(?<!\bот\s)(?<!\d)(\d[\d\s]*(?:[.,]\d+)?)\s*(тыс\w*|т\.?р\.?|к\b|k\b)?\s*"
    r"(?:руб\w*|₽|р\b|р\.)|(?<!\bот\s)(?<!\d)(\d+(?:[.,]\d+)?)\s*(тыс\w*)"
)
_MONEY_WORDS = (
    (re.compile(r"\bполтор[аы]\s+тыс\w*"), "1500"),
    (re.compile(r"\bдв[еа]\s+с\s+половиной\s+тыс\w*"), "2500"),
    (re.compile(r"\bтри\s+с\s+половиной\s+тыс\w*"), "3500"),
    (re.compile(r"\b(?:пар[уы]|двух|две|два)\s+тыс\w*"), "2000"),
    (re.compile(r"\b(?:тр[её]х|три)\s+тыс\w*"), "3000"),
    (re.compile(r"\b(?:четыр[её]х|четыре)\s+тыс\w*"), "4000"),
    (re.compile(r"\bпят[иь]\s+тыс\w*"), "5000"),
    (re.compile(r"\bшест[иь]\s+тыс\w*"), "6000"),
    (re.compile(r"\bсем[иь]\s+тыс\w*"), "7000"),
    (re.compile(r"\bвосьм[иь]\s+тыс\w*|\bвосемь\s+тыс\w*"), "8000"),
    (re.compile(r"\bдесят[иь]\s+тыс\w*"), "10000"),
    (re.compile(r"\bпятнадцат[иь]\s+тыс\w*"), "15000"),
    (re.compile(r"\bдвадцат[иь]\s+тыс\w*"), "20000"),
    (re.compile(r"\b(?:одн[ау]|одной)\s+тыс\w*|(?<!\d\s)\bтысяч[ау]\b"), "1000"),
)
# The sum the visitor has, without a unit: "у меня 4000 на двоих", "есть 3000", "у нас
# всего 6000" (not "у нас 150 человек", "есть 10 мест").
_HAVE_SUM = re.compile(
    r"\b(?:у\s+(?:меня|нас)|есть|имеется)(?:\s+(?:есть|всего|только|около|примерно))*\s+"
    r"(\d[\d\s]*?\d|\d)(?!\d)(?![.,]\d)(?!\s*(?:человек|чел\b|взросл|участник|персон|гост|дет|ребен"
    r"|ребят|школьник|студент|мест|ноч|дн|день|час|лет|год|раз|%|процент|-?х\b))"
)
# Away from the home city: "за городом", "за пределы Казани", "из Казани".
_OUT_OF_TOWN = re.compile(
    r"\bза\s+город\w*|\bзагородн\w*|\bза\s+предел\w*|\bвне\s+город\w*|\bпригород\w*"
)
_ORIGIN = re.compile(r"\b(?:из|от)\s+([а-яa-z-]+)")
# "не в Казани", "кроме Елабуги", "только не по Казани": a place left out, not asked for.
_NOT_AT = re.compile(r"\b(?:не\s+(?:в|во|по|на)|кроме|помимо|исключая)\s+([а-яa-z-]+)")


def _money_words(text: str) -> str:
    """Sums written in words as digits: "за полторы тысячи" -> "за 1500 руб"."""
    for pattern, digits in _MONEY_WORDS:
        text = pattern.sub(f"{digits} руб", text)
    return text


_RANGE_PRICE = re.compile(rf"\bот\s+{_AMOUNT}\s*(?:руб\w*|₽)?\s*до\s+{_AMOUNT}")
_DASH_PRICE = re.compile(r"\b(\d{1,3})\s*[-–]\s*(\d{1,3})\s*(тыс\w*|к\b)")
_MIN_PRICE = re.compile(rf"(?<!не\s)\b(?:от|дороже|больше)\s+{_AMOUNT}\s*(?:руб\w*|₽|р\b)")
_PER_PERSON = re.compile(r"\b(?:с|на|за)\s+(?:человек\w*|одного|персон\w*|нос\w*)|\bс\s+каждого")
_TOTAL_BUDGET = re.compile(
    r"\b(?:бюджет\w*|всего|на\s+всех|вместе|на\s+семью|на\s+двоих|на\s+троих)"
)

_SORTS = (
    (
        re.compile(r"\b(?:сам\w*\s+)?(?:дешев\w*|подешев\w*|недорог\w*|бюджетн\w*|эконом\w*)"),
        "price",
    ),
    (re.compile(r"\bсам\w+\s+дорог\w*|\bподорож\w*|\bпремиум\w*|\bvip\b"), "-price"),
    (re.compile(r"\bближайш\w*|\bпоскорее|\bскоро\b|\bв\s+ближайшее"), "date"),
    (re.compile(r"\bсам\w+\s+(?:коротк\w*|быстр\w*)|\bкоротк\w*|\bнедолг\w*"), "duration"),
    (re.compile(r"\bсам\w+\s+(?:длинн\w*|долг\w*|продолжительн\w*)"), "-duration"),
)
_SUPERLATIVE = re.compile(
    r"\bсам(?:ый|ая|ое|ые|ую|ой|ого|ых)\b|\bнаиболее\b|\bближайш(?:ий|ая|ее|ую|его|ей)\b"
)
_HALF_DAY = re.compile(
    r"\bчас\w*\s+на\s+(\d|два|три|четыре|пять)\b|\bполдня|\bпол\s+дня|\bпар[уы]\s+час\w*|\bнескольк\w*\s+час\w*|\bна\s+(\d)\s+час\w*|"
    r"\bненадолго|\bкоротк\w*|\bнедолг\w*"
)
# The hours the visitor has ("у нас 3 часа есть", "всего два свободных часа", "есть
# часа три"): the longest trip that fits, those hours and no more.
_HOURS = r"(\d|два|две|три|четыре|пять|шесть)"
_HOURS_HAD = re.compile(
    r"\b(?:у\s+(?:нас|меня)|есть|имеется|всего|только|лишь|в\s+запасе)\s+"
    r"(?:(?:есть|всего|только|лишь|около|примерно|где-то)\s+)?"
    rf"(?:{_HOURS}\s+(?:свободн\w*\s+)?час(?:а|ов)?\b|час(?:а|ов)\s+{_HOURS}\b)"
    rf"|\b{_HOURS}\s+свободн\w*\s+час\w*"
)
_OVERNIGHT = re.compile(
    r"\bночев\w*|\bночлег\w*|\bс\s+ночью|\bна\s+(?:два|три|2|3|нескольк\w*)\s+(?:дня|дней)|"
    r"\bмногоднев\w*|\bдвухднев\w*|\bтрехднев\w*|\bс\s+проживани\w*|\bгостиниц\w*|\bотел\w*"
)
_ONE_DAY = re.compile(
    r"\bна\s+(?:целый\s+|весь\s+)?день\b|\bцелый\s+день|\bна\s+(?:один\s+|1\s+)?день\b|\bза\s+один\s+день|\bоднодневн\w*|\bбез\s+ночев\w*|"
    r"\bв\s+тот\s+же\s+день|\bвернуться\s+(?:к\s+вечеру|вечером|в\s+тот\s+же)"
)
_DURATION_TOPIC = re.compile(
    r"\bсколько\s+(?:по\s+времени|час\w*|длит\w*|идет|занима\w*|дн(?:ей|я)|ночей|суток)|"
    r"\bна\s+сколько\s+дн\w*|\bдлительност\w*|"
    r"\bпродолжительн\w*|\bдлится|\bдолго\s+ли|\bво\s+сколько\s+(?:закан|верн)\w*"
)

TOPICS: dict[str, re.Pattern[str]] = {
    "tours": re.compile(r"\b(тур(ы|ов|а|е|у|ом|ами|ах)?|экскурс\w*|поезд(к|ок)\w*|путешеств\w*)\b"),
    "booking": re.compile(r"\b(брон\w*|заброн\w*|резерв\w*|запис\w*)"),
    "price": re.compile(
        r"\b(цен\w*|стоит|стоят|стоимост\w*|почем|прайс\w*|руб\w*|₽|дешев\w*|дорог\w*)"
    ),
    "places": re.compile(r"\b(мест(а|о|ам|ах)?|свободн\w*|осталось|остались)\b"),
    "dates": re.compile(r"\b(когда|дат(а|ы|у|е)|числ\w*|расписан\w*|ближайш\w*)\b"),
    # "что интересного для семьи", "куда съездить на природу": a wish for tours, even when
    # a FAQ entry shares its words (children, weather).
    "recommend": re.compile(
        r"\bчто\s+(?:\w+\s+)?(?:интересн\w*|посмотреть|посетить|посоветует\w*|"
        r"порекомендует\w*|предложит\w*|выбрать)|\bкуда\s+(?:\w+\s+)?(?:сходить|поехать|съездить|пойти|"
        r"податься|отправиться)|\b(?:посоветуйте|порекомендуйте)\s+(?:\w+\s+)?(?:тур|экскурс|"
        r"поездк|куда|что-нибудь|что-то)\w*|\bчем\s+(?:\w+\s+)?заняться"
    ),
}


def _number(raw: str) -> int | None:
    raw = raw.strip()
    if raw.isdigit():
        return int(raw)
    return _NUMBER_WORDS.get(raw)


def _amount(raw: str, unit: str | None) -> Decimal | None:
    digits = re.sub(r"\s", "", raw).replace(",", ".")
    try:
        value = Decimal(digits)
    except ArithmeticError:
        return None
    if unit:
        value *= 1000
    # Prices below 100 rubles are not prices here ("до 5 человек", "в 10 утра").
    return value if Decimal(100) <= value <= Decimal(10_000_000) else None


@dataclass(frozen=True)
class Question:
    """A visitor's question as the offline answerer reads it."""

    text: str
    query: TourQuery
    topics: frozenset[str] = frozenset()  # what the answer should show, asked or implied
    asked: frozenset[str] = frozenset()  # what the question itself asks: "сколько стоит"
    group_size: int | None = None
    children: bool = False
    total_budget: Decimal | None = None  # "бюджет 5000 на двоих": the whole sum
    superlative: bool = False  # "самая дешёвая": one answer, not a list
    periods: list[Period] = field(default_factory=list)

    @property
    def about_tours(self) -> bool:
        return bool(
            self.topics & {"tours", "recommend", "price", "places", "dates", "duration"}
            or self.query.filters()
            or self.query.sort != "relevance"
            or self.query.tour_slugs
        )


def _hours_limit(match: re.Match[str]) -> int:
    """ "часа на три" -> 4, "на 2 часа" -> 3, "на полдня" -> 5."""
    raw = next((g for g in match.groups() if g), None)
    hours = _number(raw) if raw else None
    return hours + 1 if hours else 5


def group_size(text: str) -> int | None:
    lowered = normalize(text)
    adults: int | None = None
    for pattern in _GROUP_PATTERNS:
        match = pattern.search(lowered)
        if match:
            adults = _number(match.group(1))
            if adults:
                break
    children = _CHILDREN_COUNT.search(lowered)
    kids = _number(children.group(1)) if children else None
    if adults and kids and not re.search(r"\bнас\s+" + str(adults), lowered):
        return adults + kids
    if adults and 0 < adults <= 500:
        return adults
    if kids and re.search(r"\b(?:я|мы)\s+(?:с|со)\b", lowered):
        return kids + (2 if re.search(r"\bмы\b|\bмужем|\bженой", lowered) else 1)
    if kids and kids > 1:
        return kids  # "класс 25 детей": the children are the group
    return None


_PLACES_COUNT = re.compile(rf"\b{_NUM}\s+мест(?:а|о)?\b")


def places_count(text: str) -> int | None:
    """ "3 места", "два места": the places a booking asks for (one per person)."""
    match = _PLACES_COUNT.search(normalize(text))
    count = _number(match.group(1)) if match else None
    return count if count and 0 < count <= 500 else None


# "запишите двоих", "забронируйте нас троих": the people as a booking verb's object.
_PEOPLE_BOOKED = re.compile(
    r"\b(?:за)?брон\w*\s+(?:нас\s+|мне\s+)?(двоих|троих|четверых|пятерых|шестерых)\b"
    r"|\bзапи\w*\s+(?:нас\s+)?(двоих|троих|четверых|пятерых|шестерых)\b"
)


def people_booked(text: str) -> int | None:
    """ "запишите двоих": the people a booking verb takes as its object (a booking's
    head count only; the shared `group_size` leaves it out)."""
    match = _PEOPLE_BOOKED.search(normalize(text))
    return _number(match.group(1) or match.group(2)) if match else None


def child_age(text: str) -> int | None:
    match = _CHILD_AGE.search(normalize(text))
    if not match:
        return None
    value = int(match.group(1) or match.group(2))
    return value if value < 18 else None


def read_question(text: str, catalogue: Catalogue, today: date) -> Question:
    original = text
    text = cyrillic(text)  # "na vyhodnye" is "на выходные" for every facet
    lowered = normalize(text)
    periods = periods_in(text, today)
    period: Period | None = None
    if periods:
        same_kind = [p for p in periods if p.kind == periods[0].kind]
        spans = tuple(s for p in same_kind for s in p.spans)
        label = " / ".join(p.label for p in same_kind)
        period = Period(label, spans, periods[0].kind)
    places, slugs = catalogue.places_named(text)
    not_places: list[str] = []
    home = catalogue.home_place
    search_text = lowered
    for origin in _ORIGIN.finditer(lowered):
        named, _ = catalogue.places_named(origin.group(1))
        for place in named:
            # "из Казани", "от Казани": where the trip starts, not where it goes,
            # so neither a place filter nor a word to search for.
            if place in places and (len(places) > 1 or place == home):
                places.remove(place)
                search_text = search_text.replace(origin.group(0), " ")
                if place == home and not places:
                    not_places.append(place)
    for left_out in _NOT_AT.finditer(lowered):
        named, _ = catalogue.places_named(left_out.group(1))
        for place in named:
            if place in places:
                places.remove(place)
            if place not in not_places:
                not_places.append(place)
            search_text = search_text.replace(left_out.group(0), " ")
    # A place's own name is a filter, not a word to rank by: with one tour in Kazan,
    # "ресторан в Казани" must not read as a match for it.
    kept = [w for w in tokens(search_text) if not catalogue.places_named(w, aliases=False)[0]]
    search_text = " ".join(kept)
    if home and _OUT_OF_TOWN.search(lowered):
        if home in places:
            places.remove(home)
        not_places.append(home)

    size = group_size(text) or places_count(text)  # "есть 3 места?": for three
    lowered = _money_words(lowered)
    max_price = min_price = total = None
    sum_had = False
    ranged = _RANGE_PRICE.search(lowered)
    dashed = _DASH_PRICE.search(lowered)
    if ranged:
        min_price = _amount(ranged.group(1), ranged.group(2) or ranged.group(4))
        max_price = _amount(ranged.group(3), ranged.group(4))
    elif dashed:
        max_price = _amount(dashed.group(2), dashed.group(3))
    else:
        capped = _MAX_PRICE.search(lowered)
        if capped:
            max_price = _amount(capped.group(1), capped.group(2))
        money = _MONEY.search(lowered)
        if max_price is None and money and not _MIN_PRICE.search(lowered):
            raw, unit = (money.group(1), money.group(2)) if money.group(1) else money.group(3, 4)
            max_price = _amount(raw, unit)
        had = _HAVE_SUM.search(lowered)
        if max_price is None and had and not _MIN_PRICE.search(lowered):
            max_price = _amount(had.group(1), None)
            # What the visitor has is what the whole group has ("у меня 5000, едем вдвоём").
            sum_had = max_price is not None
        floor = _MIN_PRICE.search(lowered)
        if floor:
            min_price = _amount(floor.group(1), floor.group(2))
    if (
        max_price is not None
        and (sum_had or _TOTAL_BUDGET.search(lowered))
        and not _PER_PERSON.search(lowered)
        and (size or 1) > 1
    ):
        total = max_price
        max_price = (max_price / (size or 1)).quantize(Decimal(1))

    sort = "relevance"
    for pattern, name in _SORTS:
        if pattern.search(lowered):
            sort = name
            break

    max_hours: int | None = None
    overnight: bool | None = None
    half = _HALF_DAY.search(lowered)
    had = _HOURS_HAD.search(lowered)
    if had:
        max_hours = _number(next(g for g in had.groups() if g))
    elif _ONE_DAY.search(lowered):
        overnight = False
        if half:
            max_hours = _hours_limit(half)
    elif _OVERNIGHT.search(lowered):
        overnight = True
    elif half:
        max_hours = _hours_limit(half)
    elif _ONE_DAY.search(lowered):
        overnight = False

    topics = {name for name, pattern in TOPICS.items() if pattern.search(lowered)}
    asked = frozenset(topics | ({"duration"} if _DURATION_TOPIC.search(lowered) else set()))
    if _DURATION_TOPIC.search(lowered) or max_hours or overnight is not None:
        topics.add("duration")
    if size:
        topics.add("places")
    if max_price is not None or sort in {"price", "-price"}:
        topics.add("price")
    children = bool(_WITH_CHILD.search(lowered) or _CHILD_WORD.search(lowered))

    query = TourQuery(
        text=search_text,
        period=period,
        places=tuple(places),
        not_places=tuple(not_places),
        tour_slugs=tuple(slugs),
        min_price=min_price,
        max_price=max_price,
        min_free_places=size,
        child_age=child_age(text),
        max_hours=max_hours,
        overnight=overnight,
        sort=sort,
    )
    return Question(
        text=original,
        query=query,
        topics=frozenset(topics),
        asked=asked,
        group_size=size,
        children=children,
        total_budget=total,
        superlative=bool(_SUPERLATIVE.search(lowered)) and sort != "relevance",
        periods=periods,
    )


# Words a facet was read from: not searched as text ("выходные", "дешёвый", "человек").
FACET_WORDS = word_set(
    """
    январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь
    лето летом зима зимой весна весной осень осенью летний зимний весенний осенний
    сегодня завтра послезавтра выходной выходные неделя месяц год день дня дней ночь
    понедельник вторник среда четверг пятница суббота воскресенье праздник праздники
    новогодний майский рождество каникулы ближайший следующий этот будущий
    дешёвый дешевый дорогой недорогой бюджет бюджетный рубль руб тысяча тыс тыща цена стоимость
    стоить стоит сколько почём подешевле подороже эконом
    человек группа взрослый ребёнок ребенок дети детский малыш сын дочь возраст лет год
    дочка внук внучка школьник школьница подросток младенец
    полдня час часы ночёвка ночевка длиться длительность продолжительность короткий
    долгий длинный быстрый свободный место места осталось самый нас
    проживание гостиница отель ночлег однодневный многодневный двухдневный
    предел пределы сумма максимум минимум целый весь
    """
)
