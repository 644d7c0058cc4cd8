"""Reading plain Russian questions: months, topics and places in their word forms.

Used where no model reads the question for us: the prompt enrichment for
models without tool calling and the offline answerer. Stems, not word
lists: "июнь", "в июне", "июня", "до июня" all give June.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

import pymorphy3

WORD = re.compile(r"[a-zа-я0-9-]+", re.IGNORECASE)

# Stems that only months start with (май: май/мая/мае/маем, not "маяк").
MONTHS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"январ"), 1),
    (re.compile(r"феврал"), 2),
    (re.compile(r"март(а|е|ом)?$"), 3),
    (re.compile(r"апрел"), 4),
    (re.compile(r"ма(й|я|е|ем)$"), 5),
    (re.compile(r"июн"), 6),
    (re.compile(r"июл"), 7),
    (re.compile(r"август"), 8),
    (re.compile(r"сентябр"), 9),
    (re.compile(r"октябр"), 10),
    (re.compile(r"ноябр"), 11),
    (re.compile(r"декабр"), 12),
]

TOPICS: dict[str, re.Pattern[str]] = {
    # тур, туры, туров, турах, туристический; not "турецкий"
    "tours": re.compile(r"^(тур(ы|ов|а|е|у|ом|ами|ах)?|экскурс\w*|поезд(к|ок)\w*|путешеств\w*)$"),
    "booking": re.compile(r"^(брон\w*|заброн\w*|забронир\w*|резерв\w*|запис\w*)$"),
    "price": re.compile(r"^(цен\w*|стоит|стоят|стоимост\w*|сколько|почем|прайс\w*|руб\w*)$"),
    "places": re.compile(r"^(мест(а|о|ам|ах)?|свободн\w*|осталось|остались)$"),
    "payment": re.compile(r"^(оплат\w*|плат\w*|карт(а|ой|у|ы)|предоплат\w*|чек\w*)$"),
    "cancel": re.compile(r"^(отмен\w*|возврат\w*|вернуть|верн\w*|перенес\w*|перенос\w*)$"),
    "dates": re.compile(r"^(когда|дат(а|ы|у|е)|числ\w*|расписан\w*|ближайш\w*)$"),
}


def words(text: str) -> list[str]:
    return [w.lower().replace("ё", "е") for w in WORD.findall(text)]


def month_in(text: str) -> int | None:
    for word in words(text):
        for pattern, number in MONTHS:
            if pattern.match(word):
                return number
    return None


def place_stem(place: str) -> str:
    """A stem that matches a place's case forms: Казань -> казан (Казани, Казанью)."""
    name = place.lower().replace("ё", "е").strip()
    return name[:-1] if len(name) >= 5 else name


def places_in(text: str, places: list[str]) -> list[str]:
    """Which of the known `places` the text names, in any case form."""
    found = []
    lowered = words(text)
    for place in places:
        stem = place_stem(place)
        if stem and any(w.startswith(stem) for w in lowered):
            found.append(place)
    return found


@dataclass(frozen=True)
class Reading:
    """What a question is about, as far as word forms tell."""

    topics: frozenset[str] = field(default_factory=frozenset)
    month: int | None = None
    max_price: int | None = None

    @property
    def about_tours(self) -> bool:
        return bool(self.topics & {"tours", "price", "places", "dates"}) or self.month is not None


_PRICE_LIMIT = re.compile(r"(?:до|дешевле|не дороже|меньше)\s+(\d[\d\s]{2,})", re.IGNORECASE)


def read(text: str) -> Reading:
    found = {name for name, pattern in TOPICS.items() if any(pattern.match(w) for w in words(text))}
    price = _PRICE_LIMIT.search(text)
    max_price = int(re.sub(r"\s", "", price.group(1))) if price else None
    return Reading(topics=frozenset(found), month=month_in(text), max_price=max_price)


# --- word forms, typos and Latin letters, for ai/retrieval.py ----------------------------------

# Latin spellings of Russian words as visitors type them ("sviyazhsk", "kazan",
# "ekskursiya skolko stoit"), longest first so "shch" wins over "sh" + "ch".
_LATIN_TO_CYRILLIC: tuple[tuple[str, str], ...] = (
    ("shch", "щ"),
    ("sch", "щ"),
    ("yo", "ё"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("yu", "ю"),
    ("ju", "ю"),
    ("ya", "я"),
    ("ja", "я"),
    ("ye", "е"),
    ("a", "а"),
    ("b", "б"),
    ("c", "к"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("j", "й"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "в"),
    ("x", "кс"),
    ("y", "ы"),
    ("z", "з"),
    ("'", "ь"),
)
_LATIN_WORD = re.compile(r"^[a-z']+$")
TOKEN = re.compile(r"[a-zа-яё0-9]+(?:-[a-zа-яё0-9]+)*", re.IGNORECASE)


@lru_cache(maxsize=4096)
def to_cyrillic(word: str) -> str:
    """A Latin-typed Russian word in Cyrillic: sviyazhsk -> свияжск, ekskursiya -> экскурсия."""
    word = word.lower()
    if not _LATIN_WORD.match(word):
        return word
    out: list[str] = []
    index = 0
    while index < len(word):
        for latin, cyrillic in _LATIN_TO_CYRILLIC:
            if word.startswith(latin, index):
                if latin == "e" and index == 0:
                    cyrillic = "э"  # ekskursiya, etnotur
                elif latin == "y" and index > 0 and word[index - 1] in "aeiouy":
                    cyrillic = "й"  # raiy, bolshoy, stariy
                out.append(cyrillic)
                index += len(latin)
                break
        else:
            index += 1
    return "".join(out)


def tokens(text: str) -> list[str]:
    """Lower-case words with ё as е, Latin words in Cyrillic; hyphenated words kept whole."""
    found: list[str] = []
    for raw in TOKEN.findall(text):
        word = raw.lower().replace("ё", "е")
        if _LATIN_WORD.match(word.replace("-", "")):
            word = "-".join(to_cyrillic(part) for part in word.split("-"))
        found.append(word)
    return found


@cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=65536)
def lemmas(word: str) -> frozenset[str]:
    """The dictionary forms a word may be (top parses), ё as е: "озёра" -> {"озеро"}.

    A word pymorphy3 only guesses (unknown to its dictionary) keeps its own
    form too, since the guess is often wrong for place names ("Свияжске").
    """
    if not word or word.isdigit():
        return frozenset({word})
    parses = _morph().parse(word)
    best = parses[0].score if parses else 0
    found = {p.normal_form.replace("ё", "е") for p in parses[:3] if p.score >= best / 2}
    if not parses or not parses[0].is_known:
        found.add(word)
    return frozenset(found)


@lru_cache(maxsize=16384)
def lemma(word: str) -> str:
    """The most likely dictionary form: "рыбалку" -> "рыбалка"."""
    parses = _morph().parse(word)
    return parses[0].normal_form if parses else word


@lru_cache(maxsize=65536)
def part_of_speech(word: str) -> str:
    parses = _morph().parse(word)
    return str(parses[0].tag.POS or "") if parses else ""


@lru_cache(maxsize=65536)
def is_known_word(word: str) -> bool:
    parses = _morph().parse(word)
    return bool(parses) and parses[0].is_known
