"""The scorer judges every answer of `make eval`, so it is tested on hand-made answers.

A small catalogue of its own (two titles nesting, as «Голубые озёра» in
«Раифа и Голубые озёра»), a fixed "today" (Wednesday 2 December 2026), and
answers written the ways the offline answerer and a model write them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from evaluation import calendar, questionset, reading
from evaluation.catalogue import Catalogue, FaqFact, TourFact
from evaluation.scoring import Exchange, score, summarize

TODAY = date(2026, 12, 2)  # a Wednesday

SVIYAZHSK = TourFact("sviyazhsk", "Остров-град Свияжск", "Свияжск", 3200, date(2026, 12, 22),
                     date(2026, 12, 22), 7, 18)  # fmt: skip
LAKES = TourFact("lakes", "Голубые озёра", "Казань", 1500, date(2026, 12, 5),
                 date(2026, 12, 5), 4, 23)  # fmt: skip
RAIFA_LAKES = TourFact("raifa-lakes", "Раифа и Голубые озёра", "Раифа", 3600, date(2027, 1, 10),
                       date(2027, 1, 10), 8, 2)  # fmt: skip
CANCEL = FaqFact(
    "Можно ли отменить бронь и вернуть деньги?",
    "Да. При отмене не позднее чем за 48 часов до начала тура вернём 100% стоимости. "
    "Если до начала меньше 48 часов — возвращаем 50%.",
)
PLACES = FaqFact(
    "Как узнать, есть ли свободные места?",
    "Число свободных мест указано на странице каждого тура. Если мест нет, напишите в чат.",
)
CATALOGUE = Catalogue((SVIYAZHSK, LAKES, RAIFA_LAKES), (CANCEL, PLACES))
FAQ_IDS = {"cancel": CANCEL.question, "places": PLACES.question}


def question(**fields: Any) -> questionset.Question:
    raw = {"faq_ids": FAQ_IDS, "questions": [{"id": "q", "category": "typo", **fields}]}
    parsed = questionset.parse(
        raw,
        tour_slugs=frozenset(t.slug for t in CATALOGUE.tours),
        faq_questions=frozenset(f.question for f in CATALOGUE.faq),
    )
    return parsed.questions[0]


def judge(asked: questionset.Question, answer: str, *signals: str) -> Any:
    exchange = Exchange("q", answer=answer, handoff_signals=list(signals))
    return score(asked, exchange, CATALOGUE, TODAY)


def test_a_right_answer_passes_retrieval_and_facts():
    asked = question(text="скока стоит свияжк", expect={"tours": ["sviyazhsk"], "facts": ["price"]})
    result = judge(
        asked, "Тур «Остров-град Свияжск»: 22 декабря 2026, 3\u00a0200\u00a0₽ с человека."
    )
    assert (result.retrieval, result.facts, result.wrong_facts) == (True, True, [])


def test_another_tours_price_attached_to_a_tour_is_a_wrong_fact():
    asked = question(text="скока стоит свияжк", expect={"tours": ["sviyazhsk"], "facts": ["price"]})
    result = judge(
        asked,
        "• «Голубые озёра» — 5 декабря, 1 500 ₽\n• «Остров-град Свияжск» — 22 декабря, 3 600 руб.",
    )
    assert result.retrieval is True
    assert result.facts is False
    assert result.wrong_facts == ["price 3600 for sviyazhsk (is 3200)"]


def test_a_total_for_several_people_is_not_a_wrong_price():
    asked = question(text="свияжск на двоих", expect={"tours": ["sviyazhsk"], "facts": ["price"]})
    result = judge(asked, "«Остров-град Свияжск»: 3 200 ₽ с человека, на двоих 6 400 ₽.")
    assert (result.facts, result.wrong_facts) == (True, [])


def test_a_wrong_date_and_wrong_free_places_are_counted():
    asked = question(text="свияжск когда", expect={"tours": ["sviyazhsk"], "facts": ["date"]})
    result = judge(asked, "«Остров-град Свияжск» — 23 декабря, осталось 5 мест.")
    assert result.facts is False
    assert sorted(result.wrong_facts) == [
        "date 2026-12-23 for sviyazhsk (is 2026-12-22..2026-12-22)",
        "free places 5 for sviyazhsk (is 18)",
    ]


def test_a_title_inside_a_longer_title_is_one_tour():
    found = reading.read("Советую «Раифа и Голубые озёра» (свободных мест: 2).", CATALOGUE)
    assert found.tours == ["raifa-lakes"]
    assert reading.free_places(found.segment("raifa-lakes")) == [2]


def test_a_rules_question_answered_with_tours_around_it_is_padded():
    asked = question(
        text="за сколько отменить бронь", expect={"faq": ["cancel"], "clauses": ["48 час"]}
    )
    alone = judge(asked, "Отменить можно бесплатно не позднее чем за 48 часов до начала тура.")
    padded = judge(
        asked,
        f"«{CANCEL.question}»\n{CANCEL.answer}\n\nТуры: «Голубые озёра», «Остров-град Свияжск».",
    )
    assert (alone.retrieval, alone.facts, alone.padded) == (False, True, False)
    assert (padded.retrieval, padded.facts, padded.padded) == (True, True, True)


def test_figures_inside_a_shown_faq_entry_belong_to_no_tour():
    asked = question(
        text="свияжск места", expect={"tours": ["sviyazhsk"], "facts": ["free_places"]}
    )
    result = judge(
        asked, f"«{PLACES.question}»\n{PLACES.answer}\n\n«Остров-град Свияжск»: свободных мест: 18"
    )
    assert (result.facts, result.wrong_facts) == (True, [])


def test_handoff_recall_and_precision_come_from_the_frames():
    wanted = question(text="с меня списали деньги дважды", expect={"handoff": True})
    unwanted = question(text="нас 5 человек", expect={"tours": ["sviyazhsk"]})
    handed = judge(wanted, "Передаю оператору.", "support_unavailable")
    missed = judge(wanted, "Вот наши правила возврата.")
    false_alarm = judge(unwanted, "«Остров-град Свияжск»", "support_pending")
    summary = summarize([handed, missed, false_alarm])
    assert summary["handoffs"] == {"expected": 2, "made": 2, "right": 1}
    assert summary["false_handoffs"] == 1
    assert summary["handoff_recall_percent"] == 50.0
    assert summary["handoff_precision_percent"] == 50.0


def test_off_topic_needs_a_redirect_without_catalogue_padding():
    asked = question(text="кто победит на выборах?", expect={"offtopic": True})
    redirect = judge(asked, "Я помогаю только с турами по Татарстану: спросите о поездках.")
    padded = judge(asked, "Возможно, вам подойдёт «Голубые озёра».")
    silent = judge(asked, "Не знаю.")
    assert (redirect.offtopic, redirect.padded) == (True, False)
    assert (padded.offtopic, padded.padded) == (False, True)
    assert silent.offtopic is False


def test_tours_outside_the_questions_own_dates_break_it():
    asked = question(text="что в эти выходные", expect={"select": {"dates": "this_weekend"}})
    result = judge(asked, "• «Голубые озёра» — 5 декабря\n• «Остров-град Свияжск» — 22 декабря")
    assert result.expected_tours == ["lakes"]
    assert result.retrieval is True
    assert result.violations == ["date: sviyazhsk on 2026-12-22, asked 2026-12-05..2026-12-06"]


def test_nothing_fits_then_an_honest_no_is_right_and_alternatives_are_allowed():
    asked = question(text="что завтра", expect={"select": {"dates": "tomorrow"}})
    honest = judge(asked, "На завтра туров нет. Ближайший — «Голубые озёра», 5 декабря.")
    pretending = judge(asked, "Завтра: «Голубые озёра», 5 декабря.")
    assert (honest.retrieval, honest.violations) == (True, [])
    assert pretending.retrieval is False
    assert pretending.violations == ["date: lakes on 2026-12-05, asked 2026-12-03..2026-12-03"]


def test_a_budget_for_several_people_is_shared_between_them():
    asked = question(
        text="бюджет 5000 на двоих",
        expect={"select": {"budget_total": 5000, "people": 2}, "facts": ["price"]},
    )
    result = judge(asked, "«Голубые озёра» — 1 500 ₽, «Остров-град Свияжск» — 3 200 ₽.")
    assert result.expected_tours == ["lakes"]
    assert result.violations == ["budget: sviyazhsk costs 3200, asked at most 2500"]


def test_the_cheapest_must_come_first():
    asked = question(
        text="самая дешевая",
        expect={"select": {"sort": "price_asc", "top": 1}, "facts": ["price"], "first": True},
    )
    right = judge(asked, "Самая доступная — «Голубые озёра», 1 500 ₽.")
    wrong = judge(asked, "«Остров-град Свияжск» — 3 200 ₽, «Голубые озёра» — 1 500 ₽.")
    assert (right.retrieval, right.facts) == (True, True)
    assert wrong.retrieval is False


@pytest.mark.parametrize(
    ("expression", "today", "expected"),
    [
        ("this_weekend", date(2026, 12, 2), (date(2026, 12, 5), date(2026, 12, 6))),
        ("this_weekend", date(2026, 12, 6), (date(2026, 12, 6), date(2026, 12, 6))),
        ("next_week", date(2026, 12, 6), (date(2026, 12, 7), date(2026, 12, 13))),
        ("holiday:new_year", date(2026, 12, 2), (date(2026, 12, 31), date(2027, 1, 10))),
        ("holiday:new_year", date(2027, 1, 5), (date(2027, 1, 5), date(2027, 1, 10))),
        # 23 February 2026 is a Monday: the weekend before it is part of the holiday.
        ("holiday:feb23", date(2026, 1, 10), (date(2026, 2, 21), date(2026, 2, 23))),
        # 2027: a Tuesday, the Monday bridged.
        ("holiday:feb23", date(2026, 12, 2), (date(2027, 2, 20), date(2027, 2, 23))),
        ("holiday:may", date(2026, 12, 2), (date(2027, 5, 1), date(2027, 5, 11))),
        ("season:winter", date(2026, 12, 2), (date(2026, 12, 2), date(2027, 2, 28))),
        ("season:summer", date(2026, 12, 2), (date(2027, 6, 1), date(2027, 8, 31))),
        ("month:1", date(2026, 12, 2), (date(2027, 1, 1), date(2027, 1, 31))),
    ],
)
def test_the_scorers_own_calendar(expression, today, expected):
    assert calendar.resolve(expression, today) == expected


def test_the_question_set_matches_its_schema_and_the_demo_catalogue():
    loaded = questionset.load()
    assert len(loaded.questions) >= 80
    assert {q.category for q in loaded.questions} == set(questionset.CATEGORIES)
    assert sum(q.expect.handoff for q in loaded.questions) >= 10


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"text": "x", "expect": {"tours": ["nowhere"]}}, "'nowhere' is not a demo tour"),
        ({"text": "x", "expect": {"tour": ["lakes"]}}, "unknown key(s) ['tour']"),
        ({"text": "x", "expect": {"select": {"dates": "someday"}}}, "unknown date expression"),
        ({"text": "x", "expect": {"faq": ["refunds"]}}, "faq id 'refunds' is not in `faq_ids`"),
        ({"text": "x", "expect": {"facts": ["price"]}}, "facts need `tours` or `select`"),
        ({"text": "", "expect": {"handoff": True}}, "`text` must be a non-empty string"),
        ({"text": "x", "expect": {}}, "expects nothing"),
    ],
)
def test_a_broken_expectation_is_refused_with_its_reason(fields, complaint):
    with pytest.raises(questionset.QuestionSetError) as refused:
        question(**fields)
    assert complaint in str(refused.value)


def test_a_models_markdown_answer_is_read_like_the_offline_one():
    asked = question(
        text="свияжск когда и почем", expect={"tours": ["sviyazhsk"], "facts": ["date", "price"]}
    )
    result = judge(
        asked,
        "**[Остров-град Свияжск](/tours/sviyazhsk/)** — 22.12.2026, 3,2 тыс. ₽, "
        "экскурсия 2.5 часа с обедом.",
    )
    assert (result.retrieval, result.facts, result.wrong_facts) == (True, True, [])


def test_a_bare_no_answer_is_not_an_honest_nothing_fits():
    asked = question(text="что завтра", expect={"select": {"dates": "tomorrow"}})
    result = judge(asked, "К сожалению, в базе знаний не нашлось ответа на этот вопрос.")
    assert result.retrieval is False


def test_alternatives_after_an_honest_no_are_not_counted_but_tours_before_it_are():
    asked = question(text="что осенью", expect={"select": {"dates": "season:autumn"}})
    honest = judge(
        asked, "Туров осенью (1 сентября — 30 ноября) нет. Ближайший: «Голубые озёра» — 5 декабря."
    )
    pretending = judge(asked, "«Голубые озёра» — 5 декабря. Других туров осенью нет.")
    assert (honest.retrieval, honest.violations, honest.wrong_facts) == (True, [], [])
    assert pretending.violations == ["date: lakes on 2026-12-05, asked 2027-09-01..2027-11-30"]


def test_a_missing_or_broken_question_file_is_a_clear_error(tmp_path):
    broken = tmp_path / "questions.yaml"
    broken.write_text("questions: [unclosed", encoding="utf-8")
    with pytest.raises(questionset.QuestionSetError, match="not a YAML question set"):
        questionset.load(broken)
    with pytest.raises(questionset.QuestionSetError, match="cannot read the question set"):
        questionset.load(tmp_path / "absent.yaml")


def test_a_clause_its_faq_entry_no_longer_says_is_stale_not_a_wrong_answer():
    asked = question(text="отмена", expect={"faq": ["cancel"], "clauses": ["24 час", "48 час"]})
    result = judge(asked, "Отменить можно за 48 часов до начала.")
    assert (result.facts, result.stale_clauses) == (True, ["24 час"])
    assert summarize([result])["stale_clauses"] == ["24 час"]


def test_the_questions_own_budget_written_back_is_not_a_wrong_price():
    asked = question(
        text="не дороже трех тысяч, бюджет 5000 на двоих",
        expect={"select": {"budget_total": 5000, "people": 2}, "facts": ["price"]},
    )
    result = judge(asked, "В пределах 3 000 ₽ (по 2 500 ₽ с человека): «Голубые озёра» — 1 500 ₽.")
    assert (result.facts, result.wrong_facts) == (True, [])


def test_the_group_size_written_back_is_not_a_tours_free_places():
    asked = question(text="мы вчетвером на свияжск", expect={"tours": ["sviyazhsk"]})
    result = judge(asked, "Для 4 свободных мест: «Остров-град Свияжск» — свободных мест: 18.")
    assert result.wrong_facts == []


@pytest.mark.parametrize(
    ("written", "places"),
    [
        ("свободных мест: 18", [18]),
        ("Свободно 18 мест", [18]),
        ("осталось всего одно место", [1]),
        ("18 свободных мест", [18]),
        ("мест нет", [0]),
        ("группа до 25 человек", []),
    ],
)
def test_free_places_are_read_in_the_ways_russian_writes_them(written, places):
    assert reading.free_places(reading.normalize(written)) == places


@pytest.mark.parametrize(
    ("written", "amounts"),
    [
        ("3 200 ₽", [3200.0]),
        ("3200 руб.", [3200.0]),
        ("3,2 тыс. ₽", [3200.0]),
        ("от 3\u00a0200\u00a0рублей", [3200.0]),
        ("скидка 20% и 48 часов", []),
    ],
)
def test_prices_need_a_currency_and_read_every_way_of_writing_them(written, amounts):
    assert reading.prices(reading.normalize(written)) == amounts
