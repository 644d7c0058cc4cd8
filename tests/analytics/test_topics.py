"""Popular topics: tours asked about, FAQ entries used, significant words in Russian forms."""

from __future__ import annotations

import pytest

from analytics.metrics import Period, top_faq, top_tours, top_words
from tests.analytics.dataset import DAY1, DAY2, DAY3, Chat, local
from tests.factories import make_tour
from tours.models import FaqEntry

pytestmark = pytest.mark.django_db


def test_word_forms_of_one_word_count_as_one_lexeme_shown_in_its_commonest_form() -> None:
    chat = Chat(local(DAY1))
    chat.visitor("Хочу на экскурсию в Кремль", local(DAY1, 10))
    chat.visitor("Сколько стоит экскурсия?", local(DAY1, 11))
    chat.visitor("А экскурсии в Свияжск есть?", local(DAY1, 12))
    chat.visitor("Экскурсия в Болгар: экскурсия на весь день?", local(DAY1, 13))
    chat.visitor("Сколько стоит билет в Кремль?", local(DAY1, 14))
    # Not visitor text, or outside the period: ignored.
    chat.ai(local(DAY1, 15), text="Экскурсия экскурсия экскурсия")
    chat.visitor("экскурсия", local(DAY3, 10))

    words = top_words(Period(DAY1, DAY2))

    top = words[0]
    assert (top.lexeme, top.word, top.messages, top.occurrences) == ("экскурс", "экскурсия", 4, 5)
    ranked = [(w.word, w.messages) for w in words[1:4]]
    # Ties on messages and occurrences are broken alphabetically by lexeme;
    # "сколько" is a stop word (analytics/stopwords.py).
    assert ranked == [("кремль", 2), ("стоит", 2), ("билет", 1)]


def test_stop_words_numbers_and_links_are_not_topics() -> None:
    chat = Chat(local(DAY1))
    chat.visitor("https://kazan.ru/tours info@kazan.ru 12.05", local(DAY1, 9))
    chat.visitor("А мы и они в 2025 году на 3 дня, но уже было бы", local(DAY1, 10))

    words = {w.word for w in top_words(Period(DAY1, DAY1))}

    assert words == {"дня"}  # "году": in the stop-word list


def test_hyphenated_names_count_as_one_word() -> None:
    chat = Chat(local(DAY1))
    chat.visitor("Мечеть Кул-Шариф открыта?", local(DAY1, 10))

    words = {w.word for w in top_words(Period(DAY1, DAY1))}

    assert words == {"мечеть", "кул-шариф", "открыта"}


def test_tours_ranked_by_conversations_from_page_and_ai_answers() -> None:
    kremlin = make_tour(slug="kazan-kremlin", title="Казанский Кремль")
    sviyazhsk = make_tour(slug="sviyazhsk", title="Остров-град Свияжск")
    # On the Kremlin page, the AI also mentions Sviyazhsk twice: one conversation each.
    first = Chat(local(DAY1), tour=kremlin)
    first.visitor("Что посмотреть?", local(DAY1, 10))
    first.ai(local(DAY1, 10, 1), meta={"tour_slugs": ["sviyazhsk", "kazan-kremlin"]})
    first.ai(local(DAY1, 10, 2), meta={"tour_slugs": ["sviyazhsk"]})
    second = Chat(local(DAY1), tour=kremlin)
    second.visitor("Есть скидки?", local(DAY1, 11))
    # No tour page; the AI mentions a tour that no longer exists.
    third = Chat(local(DAY1))
    third.visitor("Что-нибудь на реке?", local(DAY1, 12))
    third.ai(local(DAY1, 12, 1), meta={"tour_slugs": ["volga-cruise"], "faq_ids": "junk"})
    # On the Sviyazhsk page, but no activity in the period.
    Chat(local(DAY2), tour=sviyazhsk).visitor("Привет", local(DAY3))

    tours = top_tours(Period(DAY1, DAY2))

    assert [(t.slug, t.title, t.conversations) for t in tours] == [
        ("kazan-kremlin", "Казанский Кремль", 2),
        ("sviyazhsk", "Остров-град Свияжск", 1),
        ("volga-cruise", "volga-cruise", 1),
    ]


def test_faq_entries_ranked_by_ai_answers_that_used_them() -> None:
    refund = FaqEntry.objects.create(question="Как вернуть деньги?", answer="...")
    children = FaqEntry.objects.create(question="Можно ли с детьми?", answer="...")
    chat = Chat(local(DAY1))
    chat.ai(local(DAY1, 10), meta={"faq_ids": [refund.pk, children.pk]})
    chat.ai(local(DAY1, 11), meta={"faq_ids": [refund.pk, refund.pk]})  # one answer, once
    other = Chat(local(DAY1))
    other.ai(local(DAY1, 12), meta={"faq_ids": [str(refund.pk), "x", None]})
    other.ai(local(DAY3, 12), meta={"faq_ids": [children.pk]})

    faq = top_faq(Period(DAY1, DAY2))

    assert [(f.faq_id, f.question, f.answers, f.conversations) for f in faq] == [
        (refund.pk, "Как вернуть деньги?", 3, 2),
        (children.pk, "Можно ли с детьми?", 1, 1),
    ]


def test_chat_pleasantries_and_everyday_words_leave_the_topics() -> None:
    chat = Chat(local(DAY1))
    chat.visitor("Здравствуйте! Хочу узнать про Свияжск, спасибо", local(DAY1, 10))
    chat.visitor("Понял, спасибо. Жду ответа про Свияжск", local(DAY1, 11))
    chat.visitor("Поняла, жду. А можно сейчас с ребёнком?", local(DAY1, 12))
    chat.visitor("Спасибо большое, хорошо, понятно", local(DAY1, 13))

    words = [w.word for w in top_words(Period(DAY1, DAY1))]

    assert words[0] == "свияжск"
    assert "ребёнком" in words
    for word in ("спасибо", "хочу", "жду", "понял", "поняла", "понятно", "здравствуйте"):
        assert word not in words, words
    assert not {"сейчас", "можно", "большое", "хорошо"} & set(words)
