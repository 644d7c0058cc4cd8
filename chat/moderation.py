"""The content filter for visitor text: Russian mat, insults, English obscenities.

The words live in data files (chat/data/*.txt), not here; this module only
reads them and undoes the usual disguises before matching:

- Unicode tricks: compatibility forms (NFKC: full-width and mathematical
  letters), every Default_Ignorable code point (zero-width characters, the
  soft hyphen, the Hangul fillers) and other format characters, combining
  accents;
- letters of other scripts made to look like ours: Unicode's confusables
  data (TR39, through confusable-homoglyphs) maps "υ" to "u", "ƒ" to "f",
  "ү" to "y", "і" to "i"; symbols whose Unicode name spells a Latin letter
  ("NEGATIVE SQUARED LATIN CAPITAL LETTER F", regional indicators) become it;
- transliteration and leetspeak: Latin "x", "y", "i" inside a Cyrillic word,
  "0" for "о", "1" for "и", "6" for "б", "@" for "a" (chat/data/lookalikes.txt);
- letters spelled apart: "х у й", "f.u.c.k" (runs of one-letter pieces are
  joined);
- repeated letters: "хуууй" (a letter of a root matches a run of itself).

Matching is per word, never across words, and a root is marked in the data
as matching anywhere in a word, at its start (after known prefixes), or as
the whole word. That is what keeps ordinary words clean: "оскорблять",
"употреблять", "сабля" and "рубля" contain "бля" but not at a word start;
"команда" contains "манда" but is not the whole word. The tests pin a long
list of such innocent words and the region's place names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import regex
from confusable_homoglyphs import confusables

DATA_DIR = Path(__file__).resolve().parent / "data"

# Combining marks kept when stripping accents: they make "й" and "ё".
_KEEP_MARKS = {"\u0306", "\u0308"}
# A word is letters, digits and the symbols used as letters; everything else
# (spaces, punctuation, underscores) separates words.
_SEPARATORS = re.compile(r"(?:[^\w@$]|_)+")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
# Characters that render as nothing (Unicode's Default_Ignorable_Code_Point:
# zero-width, soft hyphen, Hangul fillers, variation selectors, tags) and other
# format characters; the `re` module knows no such property, `regex` does.
_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]+")
# "NEGATIVE SQUARED LATIN CAPITAL LETTER F", "REGIONAL INDICATOR SYMBOL LETTER F".
_LETTER_NAME = re.compile(r"\b(?:LATIN (CAPITAL|SMALL) LETTER|SYMBOL LETTER) ([A-Z])$")
_OURS = re.compile(r"[a-zA-Z0-9а-яёА-ЯЁ]")


@dataclass(frozen=True)
class WordList:
    """One language's roots compiled into three regular expressions."""

    anywhere: re.Pattern[str] | None
    at_start: re.Pattern[str] | None
    whole: re.Pattern[str] | None
    allowed: frozenset[str]

    def matches(self, word: str) -> bool:
        if word in self.allowed:
            return False
        return bool(
            (self.anywhere is not None and self.anywhere.search(word))
            or (self.at_start is not None and self.at_start.match(word))
            or (self.whole is not None and self.whole.fullmatch(word))
        )


def _data_lines(name: str) -> list[str]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _runs_pattern(root: str) -> str:
    """A regex for `root` where each letter also matches a longer run of itself."""
    parts = []
    for match in re.finditer(r"(.)\1*", root):
        letter, length = re.escape(match.group(1)), len(match.group(0))
        parts.append(f"{letter}+" if length == 1 else f"{letter}{{{length},}}")
    return "".join(parts)


def _alternation(roots: list[str]) -> str:
    # Longest first, so a longer root wins where two share a beginning.
    return "|".join(_runs_pattern(r) for r in sorted(roots, key=len, reverse=True))


def _compile(file_name: str, prefixes: list[str]) -> WordList:
    anywhere: list[str] = []
    at_start: list[str] = []
    whole: list[str] = []
    for entry in _data_lines(file_name):
        word = fold_yo(entry.lower())
        if word.startswith("^"):
            at_start.append(word[1:])
        elif word.startswith("="):
            whole.append(word[1:])
        else:
            anywhere.append(word)
    prefix = f"(?:{'|'.join(map(re.escape, prefixes))}){{0,2}}" if prefixes else ""
    return WordList(
        anywhere=re.compile(f"(?:{_alternation(anywhere)})") if anywhere else None,
        at_start=re.compile(f"{prefix}(?:{_alternation(at_start)})") if at_start else None,
        whole=re.compile(f"(?:{_alternation(whole)})") if whole else None,
        allowed=frozenset(fold_yo(w.lower()) for w in _data_lines("allowed_words.txt")),
    )


@cache
def russian_words() -> WordList:
    prefixes = [fold_yo(p.lower()) for p in _data_lines("prefixes_ru.txt")]
    return _compile("obscene_ru.txt", prefixes)


@cache
def latin_words() -> WordList:
    return _compile("obscene_en.txt", [])


@cache
def _lookalikes() -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {"cyr": {}, "lat": {}}
    for line in _data_lines("lookalikes.txt"):
        script, typed, letter = line.split()
        tables[script][typed] = letter
    return tables


def fold_yo(text: str) -> str:
    return text.replace("ё", "е")


def _fold(word: str, script: str) -> str:
    """Read `word` in one script: look-alikes become that script's letters."""
    table = _lookalikes()[script]
    return fold_yo("".join(table.get(ch, table.get(ch.lower(), ch.lower())) for ch in word))


def strip_invisible(text: str) -> str:
    """`text` without the characters that render as nothing (also for the repeat limit)."""
    return _INVISIBLE.sub("", text)


def _without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = (ch for ch in decomposed if unicodedata.category(ch) != "Mn" or ch in _KEEP_MARKS)
    return unicodedata.normalize("NFC", "".join(kept))


@lru_cache(maxsize=4096)
def _prototype(ch: str) -> str:
    """The Latin letter or digit (or Russian letter) another script's character poses as.

    Ours (ASCII letters and digits, the Russian alphabet) stay as they are;
    the look-alikes between those two are the readings' business (`_fold`).
    """
    if _OURS.match(ch) or (not ch.isalnum() and unicodedata.category(ch) != "So"):
        return ch
    found = confusables.is_confusable(ch, greedy=True)
    for glyph in found[0]["homoglyphs"] if found else ():
        base = _without_marks(glyph["c"])
        if len(base) == 1 and _OURS.match(base):
            return base
    named = _LETTER_NAME.search(unicodedata.name(ch, ""))
    if named:
        return named[2].lower() if named[1] == "SMALL" else named[2]
    return ch


def _clean(text: str) -> str:
    """Undo Unicode disguises: compatibility forms, invisible characters, accents,
    other scripts' look-alikes."""
    text = _without_marks(strip_invisible(unicodedata.normalize("NFKC", text)))
    return "".join(_prototype(ch) for ch in text)


def candidate_words(text: str) -> list[str]:
    """The words of `text` as typed, plus the words spelled apart letter by letter."""
    pieces = [p for p in _SEPARATORS.split(_clean(text)) if p]
    words = list(pieces)
    run: list[str] = []
    for piece in [*pieces, ""]:
        if len(piece) == 1:
            run.append(piece)
            continue
        if len(run) >= 2:
            words.append("".join(run))
        run = []
    return words


def _readings(word: str) -> list[tuple[str, WordList]]:
    """How a word may be meant: Cyrillic, Latin, or both for a mixed one."""
    has_cyrillic = bool(_CYRILLIC.search(word))
    has_latin = bool(_LATIN.search(word))
    readings: list[tuple[str, WordList]] = []
    if has_cyrillic:
        readings.append((_fold(word, "cyr"), russian_words()))
    if has_latin:
        readings.append((_fold(word, "lat"), latin_words()))
    return readings


def offending_word(text: str) -> str | None:
    """The first word of `text` the filter refuses, as typed; None if the text is clean."""
    for word in candidate_words(text):
        for reading, word_list in _readings(word):
            if word_list.matches(reading):
                return word
    return None


def is_clean(text: str) -> bool:
    return offending_word(text) is None
