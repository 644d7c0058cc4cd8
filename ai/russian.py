"""Russian words for the retrieval: tokens, dictionary forms, Latin-typed words.

pymorphy3 (with pymorphy3-dicts-ru) gives the dictionary forms, cached per
word; a table reads Russian typed in Latin letters. Dates are `ai.calendar`,
the other facets `ai.facets`.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import pymorphy3

WORD = re.compile(r"[a-zа-я0-9-]+", re.IGNORECASE)


def words(text: str) -> list[str]:
    return [w.lower().replace("ё", "е") for w in WORD.findall(text)]


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
# Latin words whose initial "e" is "е", not the "э" of "ekskursiya", "eto", "etnotur":
# "est", "esli", "eshche", "eda", "edem", "ehat", "elabuga", "ego".
_INITIAL_YE = ("est", "esli", "esh", "ed", "eh", "elabug", "ego", "emu", "eyo")
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
                elif latin == "ye" and index > 0 and word[index - 1] not in "aeiouy'":
                    cyrillic = "ые"  # vyhodnye, golubye: an adjective's ending
                elif latin == "y" and index > 0 and word[index - 1] in "aeiouy":
                    cyrillic = "й"  # raiy, bolshoy, stariy
                out.append(cyrillic)
                index += len(latin)
                break
        else:
            index += 1
    written = "".join(out)
    if written.startswith("э") and word.startswith(_INITIAL_YE):
        written = f"е{written[1:]}"
    return with_soft_signs(written)


_SOFTENED = "лнтдсзрмвпбч"
_VOWELS = "аеёиоуыэюя"


@lru_cache(maxsize=4096)
def with_soft_signs(word: str) -> str:
    """A Latin-typed word whose soft signs were left out, with them: "skolko" is
    "сколко" letter by letter, the dictionary knows "сколько" ("dengi" -> деньги).
    The word itself when the dictionary knows it, or no one soft sign makes it known."""
    if len(word) < 4 or "ь" in word or is_known_word(word):
        return word
    for index in range(1, len(word)):
        letter, after = word[index - 1], word[index : index + 1]
        if letter in _SOFTENED and (not after or after not in _VOWELS):
            candidate = f"{word[:index]}ь{word[index:]}"
            if is_known_word(candidate):
                return candidate
    if word[-1] in _SOFTENED and is_known_word(f"{word}ь"):
        return f"{word}ь"
    return word


_LATIN_RUN = re.compile(r"[a-zA-Z']+")


def cyrillic(text: str) -> str:
    """The text with its Latin-typed words in Cyrillic, everything else as it was."""
    return _LATIN_RUN.sub(lambda match: to_cyrillic(match.group(0)), text)


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
