"""Word meaning for the retrieval: the themes a tourist asks by.

Lemmas, stems and typos (`ai.retrieval`) find a question's word in the
catalogue only when the catalogue uses the same word. A visitor asks "на
природу", "для семьи с детьми", "что поесть", and the tours say
заповедник, озеро, игры, обед. A word of the question naming a theme
(nature, history, religion, food, family, lodging, active) stands for the theme's
everyday words that the catalogue holds, at a lower weight than a real
match (`ai.retrieval.MEANING_WORD`). Language, not catalogue data: the
words hold for any tours site, and only those the catalogue contains count.

Tried and not kept: navec's Russian news embeddings (the file inside the
natasha wheel). Nearest catalogue words by cosine, for words found nowhere,
changed no answer of `make eval` (111 questions) nor of 22 more probes,
while loading cost 0.68 s of CPU and 105 MB of memory per process: news
vectors put "природа" nearest to история (0.39), "речка" to река at only
0.38, "старина" to древний at 0.05; only near-synonyms clear a safe
threshold ("отель" -> гостиница 0.63, "храм" -> собор 0.67). See docs/ai.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


def _words(text: str) -> frozenset[str]:
    return frozenset(text.replace("ё", "е").split())


# theme: (words a visitor asks by, dictionary forms; words a tour of it says).
THEMES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "nature": (
        _words(
            "природа природный натура пейзаж экология экологический эко экотуризм "
            "воздух загород загородный глушь купаться искупаться плавать поплавать речка "
            "пруд водоем"
        ),
        _words(
            "лес лесной озеро заповедник экотропа поляна река природа природный парк "
            "сад берег утёс утес гора пейзаж окунуться"
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
            "православный православие мусульманский мусульманство христианство храм"
        ),
        _words(
            "религия монастырь мечеть собор церковь храм икона ислам минарет "
            "богородицкий успенский троицкий благовещенский"
        ),
    ),
    "food": (
        _words(
            "еда поесть покушать кухня вкусный вкусно гастрономия гастрономический блюдо "
            "кормить накормить дегустация питание обедать ужинать завтракать перекусить"
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
    "lodging": (
        _words(
            "гостиница отель хостел гостевой ночевка ночлег ночевать переночевать проживание "
            "проживать жить размещение разместить заселение номер"
        ),
        _words("гостиница отель ночевка ночлег ночь проживание размещение каюта номер"),
    ),
    "active": (
        _words("активный активно спорт спортивный поход походный пешком пеший движение подвижный"),
        _words("прогулка экотропа окунуться борьба бег лазание игра маршрут"),
    ),
}


# What a question about one tour asks of its description, besides the themes: where
# and how it starts ("откуда отправление?" is said as «Трансфер из Казани»,
# «на теплоходе «Метеор» из Казани»). Not for searching tours: every tour starts.
DETAIL_THEMES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    **THEMES,
    "start": (
        _words(
            "откуда отправление отправляться отправка выезд выезжать старт стартовать "
            "начинаться сбор собираться встреча встречаться трансфер добираться добраться доехать "
            "ехать"
        ),
        _words("трансфер отправление выезд сбор встреча автобус теплоход метеор поезд электричка"),
    ),
}


def themes_named(forms: Iterable[str], *, detail: bool = False) -> list[str]:
    """The themes one of `forms` (a word's dictionary forms) names: "природу" -> nature.

    With `detail`, also what a question about one tour asks (`DETAIL_THEMES`).
    """
    return list(_themes_named(frozenset(forms), detail))


@lru_cache(maxsize=20000)
def _themes_named(forms: frozenset[str], detail: bool) -> tuple[str, ...]:
    themes = DETAIL_THEMES if detail else THEMES
    return tuple(name for name, (asks, _) in themes.items() if forms & asks)


def theme_keys(name: str, vocabulary: frozenset[str]) -> frozenset[str]:
    """The words of theme `name` that the catalogue holds."""
    return DETAIL_THEMES[name][1] & vocabulary
