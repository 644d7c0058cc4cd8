"""Word meaning for the retrieval: tourist themes and navec's Russian word embeddings.

Lemmas, stems and typos (`ai.retrieval`) find a question's word in the
catalogue only when the catalogue uses the same word. A visitor asks "на
природу", "что поесть", "отель", and the tours say заповедник, озеро,
обед, гостиница. Two readings close that gap, both at a lower weight than a
real match:

- **themes** a tourist asks by (nature, history, religion, food, family,
  active): a word of the question naming a theme stands for the theme's
  everyday words that the catalogue contains. Language, not catalogue
  data: they hold for any tours site;
- **embeddings**: navec's news vectors (250K words, 300 dimensions,
  quantised; shipped inside the natasha wheel, which is never imported:
  it imports pymorphy2, which does not run on Python 3.11). A word found
  nowhere is read as the catalogue words nearest to it in meaning
  (cosine >= `SIMILAR`: "отель" -> гостиница, "храм" -> собор, монастырь,
  церковь). A word near a theme's name ("паломник" -> religion) opens
  that theme too.

The vectors load once per process, lazily, on the first word that needs
them (0.6 s of CPU, ~30 MB). Without the file the themes still work and
the embeddings are skipped (logged once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

EMBEDDINGS_FILE = "natasha/data/emb/navec_news_v1_1B_250K_300d_100q.tar"
# Nearest catalogue words above this cosine stand for a word found nowhere. Measured on
# the demo catalogue: "отель" -> гостиница 0.63, "храм" -> собор 0.67, монастырь 0.62,
# церковь 0.60; below it the news vectors mix topics ("природа" -> история 0.39,
# "проживание" -> питание 0.50, "еда" -> вода 0.45).
SIMILAR = 0.58
# A word this close to a theme's name opens the theme ("паломник" -> religion).
THEME_SIMILAR = 0.6
MAX_NEIGHBOURS = 4


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# theme: (words a visitor asks by, dictionary forms; words a tour of it says).
THEMES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "nature": (
        _words(
            "природа природный натура пейзаж экология экологический эко экотуризм "
            "воздух загород загородный глушь"
        ),
        _words(
            "лес лесной озеро заповедник экотропа поляна река природа природный парк "
            "сад берег остров утёс утес гора пейзаж вид"
        ),
    ),
    "history": (
        _words(
            "история исторический старина старинный древность прошлое наследие "
            "средневековье средневековый археология"
        ),
        _words(
            "история исторический древний старинный старый век городище музей кремль "
            "памятник памятный юнеско слобода купеческий крепость"
        ),
    ),
    "religion": (
        _words(
            "религия религиозный вера святыня святой паломничество паломник духовный "
            "православный мусульманский храм"
        ),
        _words(
            "религия монастырь мечеть собор церковь храм икона ислам минарет "
            "богородицкий успенский троицкий благовещенский"
        ),
    ),
    "food": (
        _words(
            "еда поесть покушать кухня вкусный вкусно гастрономия гастрономический блюдо "
            "кормить накормить дегустация питание"
        ),
        _words(
            "гастрономический гастротур дегустация обед ужин завтрак угощение питание "
            "трапезная застолье чак-чак эчпочмак кухня блюдо"
        ),
    ),
    "family": (
        _words("семья семейный ребенок ребёнок дети детский школьник школьный подросток малыш"),
        _words("семья семейный ребенок детский игра мастер-класс"),
    ),
    "active": (
        _words("активный активно спорт спортивный поход походный пешком пеший движение подвижный"),
        _words("прогулка экотропа окунуться борьба бег лазание игра маршрут"),
    ),
}


def themes_named(forms: Iterable[str]) -> list[str]:
    """The themes one of `forms` names, exactly ("природа") or by meaning ("паломник")."""
    return list(_themes_named(frozenset(forms)))


@lru_cache(maxsize=20000)
def _themes_named(forms: frozenset[str]) -> tuple[str, ...]:
    exact = tuple(name for name, (asks, _) in THEMES.items() if forms & asks)
    if exact:
        return exact
    return tuple(name for name in THEMES if _near_theme(forms, name))


def theme_keys(name: str, vocabulary: frozenset[str]) -> frozenset[str]:
    """The words of theme `name` that the catalogue holds."""
    return THEMES[name][1] & vocabulary


def _near_theme(forms: frozenset[str], name: str) -> bool:
    asks = THEMES[name][0]
    vectors = _Vectors.get()
    if vectors is None:
        return False
    matrix, _ = vectors.matrix(asks)
    for form in forms:
        vector = vectors.unit(form)
        if vector is not None and len(matrix) and float((matrix @ vector).max()) >= THEME_SIMILAR:
            return True
    return False


def neighbours(forms: Iterable[str], vocabulary: frozenset[str]) -> dict[str, float]:
    """Catalogue words nearest in meaning to one of `forms`, with their cosine (>= SIMILAR)."""
    vectors = _Vectors.get()
    if vectors is None:
        return {}
    found: dict[str, float] = {}
    matrix, words = vectors.matrix(vocabulary)
    if not words:
        return {}
    for form in forms:
        vector = vectors.unit(form)
        if vector is None:
            continue
        scores = matrix @ vector
        for index in np.argsort(-scores)[:MAX_NEIGHBOURS]:
            score = float(scores[index])
            if score < SIMILAR:
                break
            word = words[index]
            found[word] = max(found.get(word, 0.0), score)
    return found


def embeddings_path() -> Path | None:
    """The vectors inside the installed natasha wheel (its files, not its code)."""
    try:
        path = Path(str(metadata.distribution("natasha").locate_file(EMBEDDINGS_FILE)))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


class _Vectors:
    """navec's vectors, unit-normalised per word on demand and cached."""

    _instance: _Vectors | None = None
    _failed = False
    _lock = threading.Lock()

    def __init__(self, navec: Any) -> None:
        self._navec = navec
        self._matrices: dict[frozenset[str], tuple[npt.NDArray[np.float32], list[str]]] = {}
        self._units: dict[str, npt.NDArray[np.float32] | None] = {}

    @classmethod
    def get(cls) -> _Vectors | None:
        if cls._instance is None and not cls._failed:
            with cls._lock:
                if cls._instance is None and not cls._failed:
                    cls._instance = cls._load()
                    cls._failed = cls._instance is None
        return cls._instance

    @classmethod
    def _load(cls) -> _Vectors | None:
        path = embeddings_path()
        if path is None:
            logger.warning("navec embeddings not installed (natasha wheel): meaning by themes only")
            return None
        from navec import Navec  # 26 MB: loaded only when a word needs it

        return cls(Navec.load(str(path)))

    def __contains__(self, word: str) -> bool:
        return word in self._navec

    def unit(self, word: str) -> npt.NDArray[np.float32] | None:
        if word in self._units:
            return self._units[word]
        vector: npt.NDArray[np.float32] | None = None
        if word in self._navec:
            raw = np.asarray(self._navec[word], dtype=np.float32)
            norm = float(np.linalg.norm(raw))
            vector = raw / norm if norm else None
        if len(self._units) > 50000:
            self._units.clear()
        self._units[word] = vector
        return vector

    def similarity(self, left: str, right: str) -> float:
        a, b = self.unit(left), self.unit(right)
        if a is None or b is None:
            return 0.0
        return float(a @ b)

    def matrix(self, vocabulary: frozenset[str]) -> tuple[npt.NDArray[np.float32], list[str]]:
        """The vocabulary's vectors as rows, cached per vocabulary (the catalogue's)."""
        cached = self._matrices.get(vocabulary)
        if cached is None:
            words = sorted(w for w in vocabulary if len(w) > 2 and w in self._navec)
            rows = [self.unit(w) for w in words]
            matrix = (
                np.stack([r for r in rows if r is not None])
                if words
                else np.zeros((0, 300), np.float32)
            )
            if len(self._matrices) > 32:
                self._matrices.clear()
            cached = self._matrices[vocabulary] = (matrix, words)
        return cached
