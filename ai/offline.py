"""The answer when no model can give one, written as a good operator would.

Used without OPENROUTER_API_KEY, when the session's token budget is spent,
and when every model failed (the cause, decided in `ai.agent`, is the
`reason`). It reads the question with the shared retrieval (`ai.knowledge`)
and `ai.intent`, and answers with the fact asked for first:

- a complaint, refund dispute, payment problem, a change to one's booking
  or anger: a short answer and the chat handed to a person (meta handoff);
- off-topic: a short polite redirect; a greeting or thanks: one line;
- a rules question: that FAQ answer alone;
- tours: one sentence saying what fits (the dates, budget or group it was
  read for), then at most 3 tours with what the question needs;
- nothing fits: an honest "такого тура нет" with the nearest tours.

The notice that this is an automatic answer names its cause and comes last;
the operator is offered only where a person can do more. Stored with source
"offline" so metrics tell it apart.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ai import booking_intent, knowledge
from ai.calendar import Period, normalize
from ai.client import OnText
from ai.facets import FACET_WORDS, Question
from ai.intent import HANDOFF, Intent, asks_what_no_tour_says, classify
from ai.prompt import pending_question, rub
from ai.retrieval import (
    EATING,
    GENERIC,
    HEADING,
    TIME_WORDS,
    FaqHit,
    TourQuery,
    TourRow,
    TourSearch,
    content_words,
    phrase_words,
    word_set,
)
from ai.russian import cyrillic, is_known_word, lemma, lemmas, part_of_speech, tokens
from ai.semantic import theme_keys, themes_named
from ai.types import AIAnswer, AIRequest, TourFacts
from tours.filters import list_url

FAQ_SHOWN = 2
TOURS_SHOWN = 3
# A FAQ hit this strong is the answer even when the question also names tours.
STRONG_FAQ = 3.5


class Reason(enum.Enum):
    NOT_CONFIGURED = "not_configured"
    BUDGET = "token_budget"
    UNAVAILABLE = "unavailable"


def _notice(reason: Reason) -> str:
    if reason is Reason.BUDGET:
        return _("(Automatic answer: the AI assistant's limit for this chat has been reached.)")
    if reason is Reason.UNAVAILABLE:
        return _("(Automatic answer: the AI assistant is not available right now.)")
    return _("(Automatic answer from the site's catalogue and FAQ.)")


def _operator_offer() -> str:
    return _(
        "To talk to a person, write “call an operator” or press the “Call an operator” button."
    )


@dataclass
class Reply:
    text: str
    tour_slugs: list[str]
    faq_ids: list[int]
    intent: Intent | None = None
    handoff: bool = False


# --- tours --------------------------------------------------------------------------------------


def _day(value: date | str) -> str:
    """ "7 декабря": the answers' tours are all within the coming year."""
    value = date.fromisoformat(value) if isinstance(value, str) else value
    with translation.override("ru"):
        return date_format(value, "j E")


def dates(start: date | str, end: date | str) -> str:
    """ "7 декабря", "5–6 декабря", "31 декабря — 10 января"."""
    start = date.fromisoformat(start) if isinstance(start, str) else start
    end = date.fromisoformat(end) if isinstance(end, str) else end
    if start == end:
        return _day(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{_day(end)}"
    return f"{_day(start)} — {_day(end)}"


def _when(period: Period) -> str:
    """The period as "when" words: "в эти выходные (5–6 декабря)", "на 8 марта (6–8 марта)"."""
    if period.kind == "from":
        return period.label  # "после 20 декабря": its horizon is ours, not the visitor's
    label = f"на {period.label}" if period.kind in {"holiday", "day"} else period.label
    return f"{label} ({dates(period.start, period.end)})"


def _hours(hours: int) -> str:
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def _length(tour: dict[str, Any]) -> str:
    """How long a tour takes: its days when it has nights, else its hours."""
    if tour["nights"]:
        return ngettext("%(n)d day", "%(n)d days", tour["nights"] + 1) % {"n": tour["nights"] + 1}
    return _hours(tour["duration_hours"])


def _price(tour: dict[str, Any]) -> str:
    return _("%(price)s per person") % {"price": rub(tour["price_per_person"])}


def _free_places(tour: dict[str, Any]) -> str:
    return _("free places: %(n)s") % {"n": tour["free_places"]}


# A question on a sight's history that tours visit: the tours shown beside "the guide
# tells the story".
TOURS_FOR_A_SIGHT = 2


def _tour_line(tour: dict[str, Any], question: Question) -> str:
    """One tour with what the question needs: always its date and price, then the asked facts."""
    parts = [dates(tour["start_date"], tour["end_date"]), _price(tour)]
    if "duration" in question.topics or question.query.sort in {"duration", "-duration"}:
        parts.append(_length(tour))
    parts.append(_free_places(tour))
    if tour.get("min_age") and (question.children or _AGE_LIMIT.search(normalize(question.text))):
        parts.append(_("children from %(age)s") % {"age": tour["min_age"]})
    return f"• «{tour['title']}» — {', '.join(parts)}"


def _asked_facts(tour: dict[str, Any], question: Question, *, said: set[str]) -> list[str]:
    """The facts the question asks of `tour` that are not `said` yet, as `_tour_line` words."""
    asked = question.asked | question.topics
    parts: list[str] = []
    if "dates" in asked and "dates" not in said:
        parts.append(dates(tour["start_date"], tour["end_date"]))
    if "price" in asked and "price" not in said:
        parts.append(_price(tour))
    if "duration" in asked and "duration" not in said:
        parts.append(_length(tour))
    if "places" in asked:
        parts.append(_free_places(tour))
    return parts


def _asked(question: Question) -> list[str]:
    """The facets the tours were chosen for, as words: "в эти выходные (5–6 декабря)"."""
    query = question.query
    said: list[str] = []
    if query.period is not None:
        said.append(_when(query.period))
    if query.max_price is not None:
        if question.total_budget is not None and question.group_size:
            said.append(
                _("up to %(price)s per person (%(total)s for %(n)s)")
                % {
                    "price": rub(query.max_price),
                    "total": rub(question.total_budget),
                    "n": question.group_size,
                }
            )
        else:
            said.append(_("up to %(price)s per person") % {"price": rub(query.max_price)})
    if query.min_price is not None:
        said.append(_("from %(price)s") % {"price": rub(query.min_price)})
    if query.min_free_places and query.min_free_places > 1:
        said.append(_("with places for %(n)s people") % {"n": query.min_free_places})
    if query.child_age is not None:
        said.append(_("for a child of %(age)s") % {"age": query.child_age})
    if query.max_hours is not None:
        said.append(
            ngettext("up to %(n)d hour", "up to %(n)d hours", query.max_hours)
            % {"n": query.max_hours}
        )
    if query.overnight is True:
        said.append(_("with a night's stay"))
    if query.overnight is False:
        said.append(_("within one day"))
    return said


def _lead(question: Question, tours: list[dict[str, Any]], total: int) -> str:
    """The fact first: the cheapest/soonest one by name, or how many fit and for what."""
    sort, first = question.query.sort, tours[0]
    if question.superlative or (sort != "relevance" and len(tours) == 1):
        facts = {
            "title": first["title"],
            "price": rub(first["price_per_person"]),
            "date": _day(first["start_date"]),
        }
        named = ""
        chosen_by: set[str] = set()
        if sort == "price":
            named = _("The cheapest tour is “%(title)s”: %(price)s per person, %(date)s.") % facts
            chosen_by = {"price", "dates"}
        elif sort == "-price":
            named = _("The most expensive tour is “%(title)s”: %(price)s per person.") % facts
            chosen_by = {"price"}
        elif sort == "date":
            named = _("The soonest tour is “%(title)s”, %(date)s.") % facts
            chosen_by = {"dates"}
        elif sort == "duration":
            named = _("The shortest tour is “%(title)s”: %(hours)s.") % {
                **facts,
                "hours": _hours(first["duration_hours"]),
            }
            chosen_by = {"duration"}
        elif sort == "-duration":
            named = _("The longest tour is “%(title)s”.") % facts
        if named:
            # "голубые озёра когда ближайшая и сколько мест": the rest of what was
            # asked about the one named, not only the fact it was chosen by.
            more = _asked_facts(first, question, said=chosen_by)
            return f"{named[:-1]}, {', '.join(more)}." if more else named
    said = _asked(question)
    if not said:
        listing = {
            "price": _("The least expensive tours:"),
            "-price": _("The most expensive tours:"),
            "duration": _("The shortest tours:"),
            "-duration": _("The longest tours:"),
            "date": _("The soonest tours:"),
        }
        if sort in listing:
            return listing[sort]
        if not question.query.tour_slugs and not (question.query.text and total <= TOURS_SHOWN):
            return _("The soonest tours:")
    count = ngettext("%(n)d tour fits", "%(n)d tours fit", total) % {"n": total}
    if said:
        return f"{count} — {', '.join(said)}:"
    return f"{count}:"


def _tours_answer(question: Question, search: TourSearch, tours: list[dict[str, Any]]) -> str:
    shown = tours[:TOURS_SHOWN]
    lead = _lead(question, shown, search.total)
    lines = [lead]
    if lead.endswith(":"):
        lines += [_tour_line(t, question) for t in shown]
    elif len(shown) > 1:  # "Самый недорогой тур — ...": the one named, then the next ones
        lines.append(_("Next ones:"))
        lines += [_tour_line(t, question) for t in shown[1:]]
    if search.total > len(shown) and question.query.filters():
        lines.append(
            _("%(n)d more in the catalogue: %(url)s")
            % {"n": search.total - len(shown), "url": _catalogue_link(question.query)}
        )
    return "\n".join(lines)


def _catalogue_link(query: TourQuery) -> str:
    """The site's tour list with the filters it has (month, place, budget): "and N more"."""
    month = query.period.start if query.period and query.period.kind == "month" else None
    return list_url(
        settings.AI_SITE_URL,
        month=month,
        place=query.places[0] if len(query.places) == 1 else "",
        price_max=query.max_price,
    )


def _nothing_fits(question: Question, search: TourSearch) -> str:
    """ "Такого тура нет", saying which wish emptied it, with the nearest tours."""
    said = _asked(question)
    reason = ", ".join(said) if said else ""
    emptied = search.emptied_by
    if emptied == ["age"] and question.query.child_age is not None and search.nearest:
        # The tour exists; the child is too young for it ("сыну 6 лет, в Иннополис?"):
        # say so by the age, each tour with its limit, not "no such tour".
        shown = search.nearest[:TOURS_SHOWN]
        head = ngettext(
            "For a child of %(age)s this tour does not fit by age:",
            "For a child of %(age)s these tours do not fit by age:",
            len(shown),
        ) % {"age": question.query.child_age}
        return "\n".join([head, *(_tour_line(t.data(), question) for t in shown)])
    if "dates" in emptied and question.query.period is not None:
        head = _("There are no tours %(when)s.") % {"when": _when(question.query.period)}
        nearest_title = _("Nearest by date:")
    elif "price" in emptied:
        head = _("There are no tours %(what)s.") % {"what": reason}
        nearest_title = _("Closest by price:")
    elif "free_places" in emptied:
        head = _("For %(n)s people there are not enough free places in any fitting tour.") % {
            "n": question.query.min_free_places
        }
        nearest_title = _("Most free places:")
    elif _missing_nouns(search) and not reason:
        words = ", ".join(f"«{lemma(w)}»" for w in _missing_nouns(search)[:3])
        head = _("We have no tour about %(words)s.") % {"words": words}
        nearest_title = _("Closest options:")
    else:
        head = (
            _("There is no such tour (%(what)s).") % {"what": reason}
            if reason
            else _("There is no such tour.")
        )
        nearest_title = _("Closest options:")
    if not search.nearest:
        return head
    nearest = [_tour_line(t.data(), question) for t in search.nearest[:TOURS_SHOWN]]
    return "\n".join([head, nearest_title, *nearest])


def _entry_speaks_of(hit: FaqHit, words: Iterable[str]) -> bool:
    """One of `words` (or a form of it) is in the FAQ entry's question, tags or answer."""
    entry = lemmas_of(f"{hit.question} {hit.tags} {hit.answer}")
    return any((lemmas(word) | {word}) & entry for word in words)


def _shares_more_than_a_verb(hit: FaqHit, text: str) -> bool:
    """The FAQ entry speaks of something the question names, not only of what it does:
    "башня Сююмбике входит в какую экскурсию?" shares only "входить" with "Входят ли в
    стоимость входные билеты и питание?", which then led the answer before the tour."""
    named = [
        word
        for word in content_words(text, ignore=GENERIC | TIME_WORDS)
        if part_of_speech(word) not in {"VERB", "INFN"}
    ]
    return _entry_speaks_of(hit, named)


# What a tour's line states: its dates, price, free places and length. A question about
# a tour's facts shares these words with FAQ entries about them ("места" with "Как
# узнать, есть ли свободные места?" and "место сбора"), which then only repeat the list.
_LISTED = word_set(
    """
    свободный место места осталось остаться наличие цена стоимость стоить сколько почём
    рубль дата число ближайший близкий человек взрослый длиться длительность час часы
    """
)


def _adds_to_the_tours(hit: FaqHit, question: Question) -> bool:
    """The FAQ entry answers a word of the question the tour list does not: "сбор",
    "скидка", "входит". Found by a listed fact ("места") or the trip's place alone
    ("нас пятеро, на раифу места есть?" and "Для туров в Раифу — у гостиницы"), it is
    padding beside the tours that answer the question."""
    asked = content_words(question.query.text, ignore=GENERIC | TIME_WORDS | _LISTED)
    return _entry_speaks_of(hit, asked)


def _found_by_the_party_alone(hit: FaqHit, question: Question) -> bool:
    """The FAQ entry shares with the question only who is coming (children, a head
    count) or when: "мы с женой и двумя детьми на выходные" and "Можно ли поехать с
    детьми?" share "детьми"; the question asks for the weekend's trips, not that rule."""
    if not _with_children(question) or _asks_if_a_child_may_come(question, question.text):
        return False  # "можно ли с детьми зимой?" asks the rule
    asked = content_words(question.query.text, ignore=GENERIC | TIME_WORDS | FACET_WORDS)
    return not _entry_speaks_of(hit, asked)


def _covers(hit: FaqHit, words: list[str]) -> bool:
    """The FAQ entry speaks of one of `words` ("скидка" in the discounts entry)."""
    text = {f for w in tokens(f"{hit.question} {hit.tags}") for f in lemmas(w) | {w}}
    return any(lemmas(word) & text for word in words)


def _missing_nouns(search: TourSearch) -> list[str]:
    """The things asked for that no tour mentions ("рыбалка"), not verbs ("опоздаю")."""
    # A dictionary noun only: an unknown word may be a typo ("круз"), not echoed back.
    return [w for w in search.unmatched_words if part_of_speech(w) == "NOUN" and is_known_word(w)]


def _current_tour(tour: TourFacts, question: Question) -> str:
    text = _("The tour “%(title)s”: %(dates)s, %(price)s per person, free places: %(free)s.") % {
        "title": tour.title,
        "dates": dates(tour.start_date, tour.end_date),
        "price": rub(tour.price_per_person),
        "free": tour.free_places,
    }
    if "duration" in question.topics:
        nights = (tour.end_date - tour.start_date).days
        length = (
            ngettext("%(n)d day", "%(n)d days", nights + 1) % {"n": nights + 1}
            if nights
            else _hours(tour.duration_hours)
        )
        text += " " + _("It takes %(length)s.") % {"length": length}
    return text


# What a visitor asks about the tour in front of them: what the price includes, the
# hotel, meals, how long it takes, where it starts, the programme.
_HOW_LONG_WORDS = (
    r"\bсколько\s+(?:по\s+времени|длит\w*|час\w*)|\bдлится|\bпродолжительн\w*|\bдолго\b"
)
_PAGE_DETAIL = re.compile(
    r"\bвход(?:ит|ят)\b|\bвключ\w*|\bв\s+(?:стоимост|цен)\w*|"
    # the hotel
    r"\bгостиниц\w*|\bотел\w*|\bночев\w*|\bночу\w*|\bпереноч\w*|\bночлег\w*|\bпрожива\w*|"
    r"\bжив[её]м\b|\bжить\b|\bразмещ\w*|"
    # meals
    r"\bпитани\w*|\bкорм\w*|\bобед\w*|\bзавтрак\w*|\bужин\w*|\bед[аы]\b|\bблюд\w*|\bкухн\w*|"
    + EATING
    + "|"
    # where and how it starts
    r"\bтрансфер\w*|\bавтобус\w*|\bоткуда\b|\bдобира\w*|\bдобрать\w*|\bдоед\w*|\bдоехать|"
    r"\bгде\s+(?:сбор|встреч|начина|старт)\w*|\bотправл\w*|\bначина\w*|"
    # the programme and how long
    r"\bпрограмм\w*|\bмаршрут\w*|\bчто\s+(?:посмотрим|увидим|будет)|" + _HOW_LONG_WORDS
)
# What the tour shows: its programme, which is its text.
_PROGRAMME = re.compile(
    r"\bпрограмм\w*|\bмаршрут\w*|\bчто\s+(?:там\s+)?(?:посмотрим|увидим|будет|будем\s+делать|входит\s+в\s+программ)"
)
# How long it takes: the tour's own facts say it (`_current_tour`), whatever its text says.
_HOW_LONG = re.compile(_HOW_LONG_WORDS)
_HOTEL = re.compile(r"\bгостиниц\w*|\bотел\w*|\bночев\w*|\bночлег\w*|\bпрожива\w*|\bразмещ\w*")


def _page_tour_detail(
    found: knowledge.Knowledge, question: Question, text: str
) -> tuple[str, bool] | None:
    """The page's tour's answer to a question about "the tour" ("" when its text is
    silent), and whether a word of the question itself is in it (`_described`).

    None when the question is not about the page's tour: it names another tour
    or place, or asks for other dates, a budget or a group's places.
    """
    page = found.page_tour
    lowered = text.lower().replace("ё", "е")
    if page is None or not _PAGE_DETAIL.search(lowered):
        return None
    if not _about_page_tour(found, question, allowed={"duration", "place"}):
        return None
    detail, by_own_words = _described(page, text)
    if not detail and _PROGRAMME.search(lowered):
        # "что посмотрим?", "какая программа?": the whole of it is what its text says.
        return _first_sentences(_own_text(page), 2), True
    if not detail and _HOTEL.search(lowered) and not page.nights:
        # Its own fact answers the hotel asked for: no general rule beside it.
        return _("It is a one-day tour, without a night's stay."), True
    return detail, by_own_words


def _asks_only_how_long(text: str) -> bool:
    """ "а сколько это длится?": nothing of the tour's text is asked but its length."""
    lowered = normalize(text)
    return bool(_HOW_LONG.search(lowered)) and not _PAGE_DETAIL.search(_HOW_LONG.sub(" ", lowered))


def _about_page_tour(found: knowledge.Knowledge, question: Question, *, allowed: set[str]) -> bool:
    """The question is about the tour of the page: it names no other tour or place,
    and narrows by nothing but the `allowed` facets."""
    page, search, query = found.page_tour, found.search, question.query
    if page is None:
        return False
    if set(query.tour_slugs) - {page.slug} or set(query.places) - {page.place}:
        return False
    if set(query.filters()) - allowed:
        return False
    # "а в Свияжск гостиница входит?" names another tour.
    return not (
        search is not None
        and search.text_matched
        and search.best_score >= HEADING
        and search.tours
        and search.tours[0].slug != page.slug
    )


def _page_child_answer(page: TourRow, question: Question) -> str:
    """Whether the child may come on the page's tour, by the age limit its text states."""
    age, limit = question.query.child_age, page.min_age
    if limit is None:
        return _("The tour's description sets no age limit.")
    if age is not None and age < limit:
        return _("For a child of %(age)s this tour does not fit: children from %(min)s.") % {
            "age": age,
            "min": limit,
        }
    if age is not None:
        return _("Children from %(min)s: a child of %(age)s may come.") % {"age": age, "min": limit}
    return _("Children from %(min)s.") % {"min": limit}


def _page_places_answer(tour: TourFacts, wanted: int) -> str:
    if tour.free_places >= wanted:
        return _("There are places for %(n)s people.") % {"n": wanted}
    return _("Not enough places for %(n)s people: %(free)s left.") % {
        "n": wanted,
        "free": tour.free_places,
    }


def _own_text(page: TourRow) -> str:
    """The tour's short description and description, as sentences."""
    short = page.short_description.strip()
    # The short description is a heading, often without a full stop: its own sentence.
    return f"{short}{'' if not short or short[-1] in '.!?…' else '.'} {page.description}"


def _described(page: TourRow, text: str) -> tuple[str, bool]:
    """The sentences of the tour's own text that speak of what the question asks, and
    whether a word of the question itself is in them (not only a word of its theme)."""
    words = {form for word in content_words(text) for form in lemmas(word) | {word}}
    asked = set(words)
    # "питание" is said as "завтраки и ужины": the question's themes count too.
    own = _own_text(page)
    for name in themes_named(asked, detail=True):
        asked |= theme_keys(name, frozenset(lemmas_of(own)))
    # Its place names the tour, not one sentence of it ("в иннополис обед входит?").
    words -= lemmas_of(page.place)
    asked -= _GENERIC_DETAIL | lemmas_of(page.place)
    sentences = _sentences(own)
    chosen = [
        sentence
        for sentence in sentences
        if asked & {f for w in tokens(sentence) for f in lemmas(w) | {w}}
    ]
    chosen = list(dict.fromkeys(chosen[:2]))
    by_own_words = any(
        (words - _GENERIC_DETAIL) & {f for w in tokens(sentence) for f in lemmas(w) | {w}}
        for sentence in chosen
    )
    return " ".join(chosen), by_own_words


def lemmas_of(text: str) -> set[str]:
    return {f for w in tokens(text) for f in lemmas(w) | {w}}


# Words of the question that do not tell one sentence of a description from another.
_GENERIC_DETAIL = frozenset({"тур", "экскурсия", "цена", "стоимость", "входить", "войти"})


# --- intents --------------------------------------------------------------------------------------


def _handoff_text(intent: Intent, faq: list[FaqHit]) -> str:
    if intent is Intent.HUMAN:
        # The consumer already asked for a person and nobody can take the chat.
        return _(
            "No operator can answer in the chat right now. Leave your question and a phone "
            "or e-mail in the form, and we will get back to you."
        )
    texts = {
        Intent.COMPLAINT: _(
            "I am sorry this happened. An operator will sort it out: I have passed your message on."
        ),
        Intent.ANGER: _("I am sorry. An operator will sort it out: I have passed your message on."),
        Intent.REFUND_DISPUTE: _(
            "An operator will check your refund: I have passed your message on."
        ),
        Intent.PAYMENT_PROBLEM: _(
            "An operator will check the payment: I have passed your message on."
        ),
        Intent.BOOKING_CHANGE: _(
            "An operator will change or cancel the booking: I have passed your message on."
        ),
    }
    text = texts[intent]
    # The rule on what the person will do, not any rule the words touched: "я уже
    # забронировал, хочу отменить" matched "Как забронировать тур?" first.
    about = _CHANGE_RULES if intent is Intent.BOOKING_CHANGE else _REFUND_RULES
    policy = next(
        (hit for hit in faq if hit.is_policy and about.search(normalize(hit.question))), None
    )
    if policy is not None and intent in {Intent.REFUND_DISPUTE, Intent.BOOKING_CHANGE}:
        text += " " + _first_sentences(policy.answer, 1)
    return text


_CHANGE_RULES = re.compile(r"\bотмен\w*|\bперен\w*|\bизмен\w*|\bвернуть\b|\bвозврат\w*")
_REFUND_RULES = re.compile(r"\bвернуть\b|\bвозврат\w*|\bденьг\w*|\bотмен\w*")


# A sentence ends at . ! ? before a capital, not after "ул.", "г." or an initial ("И. И.").
_SENTENCE_END = re.compile(
    r"(?<!\bул\.)(?<!\bг\.)(?<!\bд\.)(?<!\b[А-ЯЁA-Z]\.)(?<=[.!?])\s+(?=[А-ЯЁA-Z«\"(0-9])"
)


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def _relevant_sentences(answer: str, question: str, count: int) -> str:
    """The `count` sentences of a FAQ answer that share most words with the question."""
    sentences = _sentences(answer)
    asked = {form for word in content_words(question) for form in lemmas(word) | {word}}
    scored = [
        (len(asked & {f for w in tokens(s) for f in lemmas(w) | {w}}), index)
        for index, s in enumerate(sentences)
    ]
    best = sorted(scored, key=lambda item: (-item[0], item[1]))[:count]
    if not best or best[0][0] == 0:
        return _first_sentences(answer, count)
    return " ".join(sentences[index] for _, index in sorted(best, key=lambda item: item[1]))


def _led_by_the_phrase(answer: str, question: str) -> str:
    """A rules answer led by its sentence on what the question's phrase names: "что
    будет, если я не приду?" is the cancellation rule's "При неявке деньги не
    возвращаются." first, then the rest; not its "Да." to whether one may cancel."""
    named = {form for word in phrase_words(question) for form in lemmas(word)}
    sentences = _sentences(answer)
    leading = [s for s in sentences if named & lemmas_of(s)]
    if not leading or leading[0] == sentences[0]:
        return answer
    rest = [s for s in sentences if s not in leading and len(s) > 5]  # no bare "Да."
    return " ".join(leading + rest)


def _first_sentences(text: str, count: int) -> str:
    """The first `count` sentences that say something (not a bare "Да.")."""
    return " ".join([sentence for sentence in _sentences(text) if len(sentence) > 5][:count])


# --- the answer ----------------------------------------------------------------------------------


# "можно", "возьмут", "пустят", "берёте", "подойдёт": may the child come along?
_MAY_COME = re.compile(
    r"\b(?:можно|возьм\w*|бер[её]т\w*|беру\w*|пуст\w*|пуска\w*|подойд\w*|подход\w*|разреш\w*"
    r"|допуска\w*)"
    # "экскурсия в Иннополис для детей": whether it suits them, the same question
    r"|\bдля\s+(?:дет\w*|ребен\w*|школьн\w*|подрост\w*|малыш\w*)"
)
# The age a trip takes children from, asked as such: "с какого возраста", "со скольки
# лет", "сколько лет должно быть ребёнку", "возрастные ограничения": the same question
# as whether a child may come, with or without a child's word.
_AGE_LIMIT = re.compile(
    r"\bс\s+какого\s+возраст\w*|\bсо?\s+скольк\w*\s+лет|\bсколько\s+лет\s+(?:\w+\s+)?"
    r"(?:должно|должен|нужно|надо)\b|\bминимальн\w*\s+возраст\w*|\bвозраст\w*\s+огранич\w*"
    r"|\bограничени\w*\s+по\s+возраст\w*|\bвозрастн\w*\s+(?:ценз|огранич)\w*"
)


# Words that ask for trips, beside a word for one ("какие экскурсии", "есть туры",
# "посоветуйте поездку", "куда"); without them the trip is the setting of the question.
_ASKS_FOR_TOURS = re.compile(
    r"\b(?:как(?:ие|ой|ая|ую|их)|есть|имеются|посовет\w*|подскаж\w*|предлож\w*|хочу|хотим|"
    r"хотел\w*|ищу|ищем|куда|вариант\w*|список|выбрать|найти|покажи\w*|интересн\w*)\b"
)


# Where to go or what to choose, asked with a child ("с ребёнком 3 лет куда можно",
# "что посоветуете с детьми"): trips, not only whether children may come.
_ASKS_WHERE = re.compile(
    r"\b(?:куда|посовет\w*|порекоменд\w*|предлож\w*|как(?:ие|ую|ой)\s+(?:тур|экскурс|поездк)\w*|"
    r"что\s+(?:\w+\s+)?(?:посмотреть|интересн\w*|выбрать))"
)


def _with_children(question: Question) -> bool:
    return question.children or question.query.child_age is not None


def _asks_if_a_child_may_come(question: Question, text: str) -> bool:
    """A child ("с ребёнком", "внуку 8 лет") and "можно?", "возьмут?", "для детей"."""
    said = normalize(cyrillic(text))
    if _AGE_LIMIT.search(said):
        return True
    child = question.children or question.query.child_age is not None
    return child and bool(_MAY_COME.search(said))


def _child_may_come(question: Question, search: TourSearch | None, text: str) -> bool:
    """ "ребёнку 3 года, можно на гастротур?", "со школьником в Елабугу можно?": whether a
    child may come on the trip its words or its place name is the trip's own condition."""
    if not _asks_if_a_child_may_come(question, text):
        return False
    if question.query.places or question.query.tour_slugs:
        return True
    # Named by a word of its own, not by the family theme the child's words name
    # ("можно с ребёнком 5 лет на экскурсию?" names no trip: the rule answers it).
    return _own_words_found(question, search)


def _own_words_found(question: Question, search: TourSearch | None) -> bool:
    """Tours were found by a word of the question's own, not only by a facet's word
    or a theme it names (the family theme of "ребёнку", the "дня" of "сколько дней")."""
    if search is None or not search.text_matched:
        return False
    own = content_words(question.query.text, ignore=FACET_WORDS | TIME_WORDS | GENERIC)
    return any(word not in search.unmatched_words for word in own)


def _has_tour_facets(question: Question) -> bool:
    query = question.query
    return bool(query.filters() or query.sort != "relevance" or query.tour_slugs)


def compose(request: AIRequest, found: knowledge.Knowledge, reason: Reason, text: str) -> Reply:
    """The whole offline answer for the visitor's pending `text`."""
    question, search = found.reading, found.search
    if request.tour is None and found.page_tour is not None:
        # A follow-up about the tour named before (`read_in_context`): as on its page.
        request = replace(request, tour=TourFacts.of(found.page_tour))
    intent = classify(text)
    notice = _notice(reason)
    if intent in HANDOFF:
        assert intent is not None
        body = _handoff_text(intent, found.faq)
        return Reply(
            f"{body}\n\n{notice}",
            [],
            [h.id for h in found.faq[:1]],
            intent,
            handoff=intent is not Intent.HUMAN,
        )
    names_a_tour = (
        search is not None
        and search.text_matched
        and search.best_score >= HEADING
        and not question.query.places  # "погода в Елабуге" names a place, not a tour
    )
    trivia = intent is Intent.OFF_TOPIC and asks_what_no_tour_says(text)
    sights_tours = found.tours[:TOURS_FOR_A_SIGHT] if trivia and names_a_tour else []
    if sights_tours:
        # "кто построил кремль": no tour's data says it, but a tour goes there and its
        # guide tells the story; the tour, not a bare "I only help with tours".
        lines = [_tour_line(tour, question) for tour in sights_tours]
        body = _("Our guide tells the story on the tour:") + "\n" + "\n".join(lines)
        return Reply(f"{body}\n\n{notice}", [t["slug"] for t in sights_tours], [], intent)
    if intent is Intent.OFF_TOPIC and (trivia or not names_a_tour):
        # ("температура воды в Голубых озёрах" names a tour: answered as one.)
        body = _(
            "I can only help with our tours of Tatarstan: dates, prices, free places and "
            "booking. What trip are you thinking of?"
        )
        return Reply(f"{body}\n\n{notice}", [], [], intent)
    if intent is Intent.GREETING:
        body = _(
            "Hello! I can tell you about our tours: dates, prices and free places. "
            "What are you interested in?"
        )
        return Reply(f"{body}\n\n{notice}", [], [], intent)
    if intent is Intent.THANKS:
        return Reply(_("You are welcome! Ask if anything else comes up."), [], [], intent)

    parts: list[str] = []
    slugs: list[str] = []
    faq_ids: list[int] = []
    top_faq = found.faq[0] if found.faq else None
    tours = found.tours
    tour_facets = _has_tour_facets(question) and question.query.filters() != ["age"]
    tour_best = search.best_score if search is not None and search.text_matched else 0.0
    # A FAQ entry that matches better than any tour answers a rules question alone
    # ("где встречаемся перед экскурсией в кремль?"), unless the question names tours
    # by its facets (dates, place, budget...). A child's age alone is a rules question.
    faq_wins = top_faq is not None and top_faq.rank >= tour_best
    # "есть ли места на гастротур?" asks a tour's fact: the tour answers it.
    asks_tour_facts = bool(question.asked & {"price", "dates", "places", "duration", "recommend"})
    asks_this_tour = bool(question.topics & {"price", "places", "dates", "duration", "booking"})
    # A rules question may name the trip it is about ("на теплоход в болгар с малышом
    # какие документы нужны"): when a FAQ entry answers it, the question asks for no
    # tours and no fact of one, and nothing narrows a search but the trip's place,
    # the entry alone answers; the tour around it is padding. A child's age with a
    # named tour is that tour's condition ("сыну 6 лет, возьмут в иннополис?": from
    # 8), so the tour answers it; so does any question whether a child may come on
    # a trip it names, with or without an age (the rule beside it).
    child_may_come = _child_may_come(question, search, text)
    # "на каком языке экскурсия в болгаре" names a trip as its setting; "какие
    # экскурсии есть в болгаре" asks for trips.
    asks_for_tours = (
        "tours" in question.asked and bool(_ASKS_FOR_TOURS.search(normalize(cyrillic(text))))
    ) or (_with_children(question) and bool(_ASKS_WHERE.search(normalize(cyrillic(text)))))
    rules_about_a_trip = (
        not child_may_come
        and top_faq is not None
        and top_faq.rank >= STRONG_FAQ
        and _shares_more_than_a_verb(top_faq, text)
        # Found by the party alone ("мы с женой и двумя детьми на выходные"), the
        # children's entry is no rules question: the weekend's tours are asked.
        and not _found_by_the_party_alone(top_faq, question)
        and not asks_tour_facts
        and not asks_this_tour
        and not asks_for_tours
        # "что надеть на экскурсию зимой": the season is when, not which tours.
        and set(question.query.filters()) <= {"place", "dates"}
        and question.query.sort == "relevance"
    )
    tour_question = not rules_about_a_trip and (
        child_may_come
        or tour_facets
        or (tour_best > 0 and (not faq_wins or asks_tour_facts))
        # "с ребёнком 3 лет куда можно?": trips that take the child, the rule beside them.
        or (asks_for_tours and _with_children(question) and bool(tours))
    )

    detail = _page_tour_detail(found, question, text) if request.tour is not None else None
    page_detail, by_own_words = detail if detail is not None else (None, False)
    faq_strong_here = top_faq is not None and top_faq.rank >= STRONG_FAQ
    # "с ребёнком 6 лет можно?" on a tour's page: that tour's age limit answers.
    page_child = (
        request.tour is not None
        and found.page_tour is not None
        and _asks_if_a_child_may_come(question, text)
        and _about_page_tour(found, question, allowed={"age", "place"})
    )
    # "есть места на 3 человек?" on a tour's page: that tour's free places.
    page_places = (
        request.tour is not None
        and question.query.min_free_places is not None
        and _about_page_tour(found, question, allowed={"free_places", "place"})
    )
    if request.tour is not None and page_detail is not None:
        # "а гостиница входит в цену?" on a tour's page asks about that tour: its own
        # description answers, not a search of every tour with a hotel.
        parts.append(_current_tour(request.tour, question))
        slugs.append(request.tour.slug)
        if page_detail and faq_strong_here and not by_own_words and top_faq is not None:
            # "где сбор?": the text says only how it goes ("теплоход из Казани"), by the
            # theme of the words; the FAQ entry that names them says where: both.
            parts.append(_relevant_sentences(top_faq.answer, text, 2))
            faq_ids.append(top_faq.id)
            parts.append(page_detail)
        elif page_detail:
            parts.append(page_detail)
        elif faq_strong_here and top_faq is not None:
            parts.append(_relevant_sentences(top_faq.answer, text, 2))
            faq_ids.append(top_faq.id)
        elif not _asks_only_how_long(text):  # its length: the tour's own facts above
            # Nothing in its text or the FAQ says it: a person can, and guessing would not do.
            parts.append(_("The tour's description does not say."))
            parts.append(_operator_offer())
    elif request.tour is not None and page_child and found.page_tour is not None:
        parts.append(_current_tour(request.tour, question))
        parts.append(_page_child_answer(found.page_tour, question))
        slugs.append(request.tour.slug)
        if faq_strong_here and top_faq is not None:
            parts.append(_relevant_sentences(top_faq.answer, text, 2))
            faq_ids.append(top_faq.id)
    elif request.tour is not None and page_places and question.query.min_free_places:
        parts.append(_current_tour(request.tour, question))
        parts.append(_page_places_answer(request.tour, question.query.min_free_places))
        slugs.append(request.tour.slug)
    elif (
        request.tour is not None
        and asks_this_tour
        # "а когда ближайшая дата?" on a page: that tour's nearest date, not the soonest tours.
        and (
            not _has_tour_facets(question)
            or (
                question.query.sort == "date"
                and not asks_for_tours  # "а какие ещё ближайшие туры?" asks for others
                and _about_page_tour(found, question, allowed=set())
            )
        )
    ):
        parts.append(_current_tour(request.tour, question))
        slugs.append(request.tour.slug)
        if (
            top_faq is not None
            and top_faq.rank >= STRONG_FAQ
            and _adds_to_the_tours(top_faq, question)
        ):
            parts.append(top_faq.answer)
            faq_ids.append(top_faq.id)
    elif top_faq is not None and not tour_question:
        parts.append(_led_by_the_phrase(top_faq.answer, text))  # a rules question: the entry alone
        faq_ids.append(top_faq.id)
    elif tours and search is not None:
        missing = [] if search.text_matched else _missing_nouns(search)
        faq_strong = (
            top_faq is not None
            and (top_faq.rank >= STRONG_FAQ or (bool(missing) and _covers(top_faq, missing)))
            and _shares_more_than_a_verb(top_faq, text)
            and _adds_to_the_tours(top_faq, question)
        )
        if missing and not faq_strong:
            # The facets fit, the thing asked for does not ("ресторан в Казани"): say
            # so, and offer what the facets found as the alternatives.
            words = ", ".join(f"«{lemma(w)}»" for w in _missing_nouns(search)[:3])
            lines = [_("We have no tour about %(words)s.") % {"words": words}]
            lines.append(_("Closest options:"))
            lines += [_tour_line(t, question) for t in tours[:TOURS_SHOWN]]
            parts.append("\n".join(lines))
        elif faq_strong and top_faq is not None:
            # The fact asked for first: "где сбор на поездку в Раифу" asks the FAQ's,
            # "нас 10 человек, есть скидка?" the discount; "сколько стоит" the tours'.
            faq_part = _relevant_sentences(top_faq.answer, text, 2)
            faq_ids.append(top_faq.id)
            tours_part = _tours_answer(question, search, tours)
            # "ребёнку 3 года, можно на гастротур?": whether the tour takes the child first.
            tour_first = asks_tour_facts or child_may_come or asks_for_tours
            parts += [tours_part, faq_part] if tour_first else [faq_part, tours_part]
        else:
            parts.append(_tours_answer(question, search, tours))
        slugs += [t["slug"] for t in tours[:TOURS_SHOWN]]
    elif search is not None and (
        search.emptied_by
        or (question.about_tours and (_missing_nouns(search) or _has_tour_facets(question)))
    ):
        parts.append(_nothing_fits(question, search))
        slugs += [t.slug for t in search.nearest[:TOURS_SHOWN]]
        if not search.nearest:
            parts.append(_operator_offer())
    elif top_faq is not None:
        parts.append(top_faq.answer)
        faq_ids.append(top_faq.id)
    elif request.tour is not None:
        parts.append(_current_tour(request.tour, question))
        slugs.append(request.tour.slug)
    else:
        # Nothing of ours matched: an unknown detail of a trip or another subject
        # ("посоветуй хороший фильм"); say what this chat can do, and offer a person.
        parts.append(
            _("I could not find an answer to this question in the knowledge base.")
            + " "
            + _("I help with our tours of Tatarstan: dates, prices, free places and booking.")
        )
        parts.append(_operator_offer())
    parts.append(notice)
    return Reply("\n\n".join(parts), slugs, faq_ids, intent)


# How many of the visitor's earlier messages a follow-up may take its subject from.
FOLLOW_UP_LOOKBACK = 2


def _has_subject(found: knowledge.Knowledge) -> bool:
    """The question names what it is about: a tour by its words, a place or a tour's name."""
    query = found.reading.query
    return bool(query.places or query.tour_slugs) or _own_words_found(found.reading, found.search)


def _is_follow_up(request: AIRequest, question: str, found: knowledge.Knowledge) -> bool:
    """ "а сколько стоит?", "а места есть?" after a question about a trip: it names no
    trip and no rule answers it, so it is about the trip the conversation is on."""
    if request.tour is not None or _has_subject(found) or classify(question) is not None:
        return False
    if _asks_if_a_child_may_come(found.reading, question):
        return True  # "а с ребёнком 5 лет можно?": the trip's own age limit answers it
    top_faq = found.faq[0] if found.faq else None
    return not (top_faq is not None and top_faq.rank >= STRONG_FAQ)


def _earlier_questions(request: AIRequest) -> list[str]:
    """The visitor's messages to the AI before the pending ones, newest first."""
    return [
        item.text
        for item in reversed(request.history)
        if item.role == "user" and not item.pending and not item.to_operator
    ][:FOLLOW_UP_LOOKBACK]


def _asks_a_detail(request: AIRequest, question: str, found: knowledge.Knowledge) -> bool:
    """ "а гостиница входит?", "а кормят там?": a detail of a tour (`_PAGE_DETAIL`), off
    any tour's page, naming no tour: not by a place or a name, nor by a word of its own
    (a word that finds tours only by its theme, "кормят" -> обед, names none)."""
    if request.tour is not None or classify(question) is not None:
        return False
    if not _PAGE_DETAIL.search(normalize(cyrillic(question))):
        return False
    query, search = found.reading.query, found.search
    if query.places or query.tour_slugs:
        return False
    if search is None or not search.text_matched:
        return True
    own = content_words(query.text, ignore=FACET_WORDS | TIME_WORDS | GENERIC)
    found_by = set(search.unmatched_words) | set(search.theme_only_words)
    return all(word in found_by for word in own)


def _the_one_tour(found: knowledge.Knowledge) -> TourRow | None:
    """The single tour a question named: by a name of its own, by the place only it is
    at ("елабуга"), or as the only one found; None when it named several."""
    search, query = found.search, found.reading.query
    if search is None or not search.tours:
        return None
    named = [t for t in search.tours if t.slug in query.tour_slugs]
    if not named and query.places:
        named = [t for t in search.tours if t.place in query.places]
    if not named and search.text_matched and search.total == 1:
        named = search.tours[:1]
    return named[0] if len(named) == 1 else None


async def _subject_before(
    request: AIRequest, faq_limit: int
) -> tuple[str, knowledge.Knowledge | None]:
    """The newest earlier question that named a subject, with its reading."""
    for earlier in _earlier_questions(request):
        before = await knowledge.gather_soon(
            earlier, stamp=request.knowledge_stamp, with_tours=True, faq_limit=faq_limit
        )
        if _has_subject(before):
            return earlier, before
    return "", None


_WHICH_TOUR = re.compile(r"\bкак(?:ой|ая|ие|ую|ом|их)\s+(?:\w+\s+)?(?:тур|экскурс|поездк)\w*")


def _detail_of_the_tour_named(
    request: AIRequest, question: str, found: knowledge.Knowledge
) -> knowledge.Knowledge | None:
    """ "в туре в Елабугу гостиница входит?": a detail of the one tour the question names
    by its place, answered from that tour's text as on its page, when the text
    says it; None otherwise (the search and the FAQ answer as before)."""
    if request.tour is not None or classify(question) is not None:
        return None
    query = found.reading.query
    # Named by its place; a sight ("башня Сююмбике входит в экскурсию по кремлю?") asks
    # which tour shows it, answered by the search.
    if not query.places or query.tour_slugs:
        return None
    lowered = normalize(cyrillic(question))
    if not _PAGE_DETAIL.search(lowered) or _asks_only_how_long(question):
        return None
    if _WHICH_TOUR.search(lowered):
        return None  # "башня Сююмбике входит в какую экскурсию?" asks for the tour
    tour = _the_one_tour(found)
    if tour is None:
        return None
    in_view = replace(found, page_tour=tour, tours=[tour.data()])
    detail = _page_tour_detail(in_view, found.reading, question)
    return in_view if detail is not None and detail[0] else None


async def read_in_context(
    request: AIRequest,
    question: str,
    found: knowledge.Knowledge,
    *,
    faq_limit: int = FAQ_SHOWN,
) -> tuple[str, knowledge.Knowledge]:
    """A follow-up is read with the earlier question that named its subject.

    `found` is the pending question's own reading with its tours; `faq_limit`
    as the caller gathered it (the model's prompt gathers fewer). A message
    with no earlier one costs nothing more.
    """
    if found.search is None:
        return question, found
    named = _detail_of_the_tour_named(request, question, found)
    if named is not None:
        return question, named
    follow_up = _is_follow_up(request, question, found)
    if _asks_a_detail(request, question, found):
        # "елабуга", then "а гостиница входит?": what the tour named before includes is in
        # its own text, as on its page; not the FAQ's general rule, nor every tour with a
        # hotel. When its text is silent, or several tours were named ("болгар"), it is
        # read with the earlier question, as any follow-up.
        earlier, before = await _subject_before(request, faq_limit)
        tour = _the_one_tour(before) if before is not None else None
        if tour is not None:
            in_view = replace(found, page_tour=tour, tours=[tour.data()])
            detail = _page_tour_detail(in_view, found.reading, question)
            if (detail is not None and detail[0]) or not follow_up:
                return question, in_view
        follow_up = follow_up or before is not None
    if not follow_up:
        return question, found
    for earlier in _earlier_questions(request):
        before = await knowledge.gather_soon(
            earlier, stamp=request.knowledge_stamp, with_tours=True, faq_limit=faq_limit
        )
        if not _has_subject(before):
            continue
        # The earlier question named the trip; together they may find none ("голубые
        # озёра", "а в январе?": not in January, the nearest dates said so).
        combined = f"{earlier}\n{question}"
        together = await knowledge.gather_soon(
            combined, stamp=request.knowledge_stamp, with_tours=True, faq_limit=faq_limit
        )
        return combined, together
    return question, found


async def _booking(
    request: AIRequest, question: str, named: tuple[str, ...] = ()
) -> booking_intent.Proposal:
    """`booking_intent.propose` for the pending message, or for it with the visitor's
    previous one when that was a booking request this one completes ("забронируйте
    Болгар на двоих", then "на 7 января"). No DB hop for a message that is none."""
    propose = database_sync_to_async(booking_intent.propose)
    if booking_intent.read_booking_ask(question) is not None:
        return await propose(question, request.tour, named)
    for earlier in _earlier_questions(request)[:1]:
        if booking_intent.read_booking_ask(earlier) is None:
            continue
        # Only a request that got no card for want of a tour ("which date?"): one that
        # got its card is done, and a later "как забронировать?" is no second one.
        if (await propose(earlier, request.tour)).unclear:
            completed = await propose(f"{earlier} {question}", request.tour)
            if completed.card is not None:
                return completed
    return booking_intent.Proposal()


async def answer(
    request: AIRequest,
    *,
    on_text: OnText,
    reason: Reason,
    started: float | None = None,
    error: str = "",
    fallback_used: bool = False,
    meta: dict[str, Any] | None = None,
) -> AIAnswer:
    started = started if started is not None else time.monotonic()
    question = pending_question(request)
    page = request.tour.slug if request.tour is not None else None
    found = await knowledge.gather_soon(
        question, stamp=request.knowledge_stamp, with_tours=True, faq_limit=FAQ_SHOWN, page=page
    )
    question, found = await read_in_context(request, question, found)
    # A clear booking request (tour, date, people): offer the confirmation card.
    booking = await _booking(request, question, found.reading.query.tour_slugs)
    proposal = booking.card
    if proposal is not None and page is None:
        # Off the tour's page, the answer under the card is that tour's, as on its page
        # (not the catalogue's other trips to the same place, nor how to book).
        found = await knowledge.gather_soon(
            question,
            stamp=request.knowledge_stamp,
            with_tours=True,
            faq_limit=FAQ_SHOWN,
            page=str(proposal["tour"]),
        )
    elif booking.unclear and found.search is not None and found.search.tours:
        # The tours to choose from and a question for the date: how to book (the FAQ)
        # is what the visitor is doing already.
        found = replace(found, faq=[])
    reply = compose(request, found, reason, question)
    text = reply.text
    if proposal is not None:
        text = booking_intent.card_offer(proposal) + "\n\n" + text
    elif booking.unclear:
        # Booking words and a head count, but several tours (or none) fit: ask for
        # the date, which the next message may give ("на 7 января"). Not beside one
        # tour shown (it has no room for the group: the answer says so).
        search = found.search
        listed = {t.slug: t for t in [*search.tours, *search.nearest]} if search else {}
        shown = list(dict.fromkeys(reply.tour_slugs))
        if len(shown) != 1:
            first = listed[shown[0]].start_date if shown and shown[0] in listed else None
            text = booking_intent.which_tour(first) + "\n\n" + text
    await on_text(text)
    elapsed = int((time.monotonic() - started) * 1000)
    extra: dict[str, Any] = {
        "offline_reason": reason.value,
        "faq_ids": reply.faq_ids,
        "tour_slugs": list(dict.fromkeys(reply.tour_slugs)),
    }
    if reply.intent is not None:
        extra["intent"] = reply.intent.value
    if reply.handoff:
        extra["handoff"] = True
        extra["handoff_reason"] = question[:500]
    return AIAnswer(
        text=text,
        source="offline",
        latency_ms=elapsed,
        first_token_ms=elapsed,
        fallback_used=fallback_used,
        error=error or reason.value,
        meta={**(meta or {}), **extra, **booking_intent.answer_meta(proposal)},
    )
