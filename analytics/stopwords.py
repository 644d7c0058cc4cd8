"""Words left out of "Частые слова": Russian stop words and chat pleasantries.

PostgreSQL's `russian` configuration already drops the Snowball list (about
150 function words: "и", "в", "на"). What still crowded the figure were
everyday words ("сейчас", "можно", "тоже") and the politeness of a chat
("спасибо", "жду", "понял", "хочу"), which say nothing about topics. Both
lists are stemmed by the same configuration in SQL, so every form of a word
("понял", "поняла", "понятно") goes with it.
"""

from __future__ import annotations

from functools import cache

from stop_words import get_stop_words

# What visitors write in any chat, whatever they ask about; not topics.
CHAT_PLEASANTRIES = frozenset(
    {
        "здравствуйте",
        "здравствуй",
        "привет",
        "приветствую",
        "добрый",
        "доброе",
        "доброго",
        "день",
        "спасибо",
        "спасибочки",
        "большое",
        "благодарю",
        "благодарность",
        "пожалуйста",
        "пожалуйсто",
        "прошу",
        "извините",
        "простите",
        "ок",
        "окей",
        "хорошо",
        "ладно",
        "отлично",
        "супер",
        "понятно",
        "понял",
        "поняла",
        "поняли",
        "ясно",
        "угу",
        "ага",
        "да",
        "нет",
        "жду",
        "ждём",
        "ждем",
        "подожду",
        "подождите",
        "минутку",
        "секунду",
        "хочу",
        "хотим",
        "хотел",
        "хотела",
        "хотелось",
        "хотели",
        "подскажите",
        "подскажи",
        "скажите",
        "расскажите",
        "интересует",
        "интересуют",
        "интересно",
        "можно",
        "могу",
        "можете",
        "нужно",
        "нужна",
        "нужен",
        "надо",
        "вопрос",
        "вопросы",
        "ответ",
        "ответьте",
        "уточнить",
        "уточните",
        "узнать",
    }
)


@cache
def stop_words_text() -> str:
    """All left-out words in one string, for `to_tsvector(config, …)` in SQL."""
    return " ".join(sorted(set(get_stop_words("russian")) | set(CHAT_PLEASANTRIES)))
