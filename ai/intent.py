"""Does the visitor ask for a human? `wants_human(text)`.

Rules over Russian word forms, not a model: it must work with the AI down
and cost nothing on every message. A request is a person-noun (оператор,
менеджер, человек, специалист...) in any case form together with a request
word near it (позовите, соедините, хочу поговорить, нужен...), or "живой"
with such a noun, or the noun alone as the whole message ("Оператора!").
Phone carriers ("оператор связи", "сотовый оператор"), tour operators
("туроператор" is another word) and head counts ("на двух человек") are
not requests.
"""

from __future__ import annotations

import re

from ai.russian import words

_HUMAN = re.compile(
    r"^(оператор|менеджер|специалист|консультант|сотрудник|администратор)"
    r"(а|у|ом|е|ы|ов|ам|ами|ах)?$"
    r"|^(человек(а|у|ом|е)?|люд(и|ей|ям|ьми))$"
)
_ALIVE = re.compile(r"^жив(ой|ого|ому|ым|ом|ая|ую|ые|ых|ыми)$")
_REQUEST = re.compile(
    r"^(позов\w*|позвать|позвон\w*|зов(и|ите)|соедин\w*|переключ\w*|подключ\w*|"
    r"свяж\w*|связат\w*|связь|поговор\w*|пообща\w*|общат\w*|общени\w*|переда\w*|"
    r"перевед\w*|хочу|хотим|хотел\w*|нуж(ен|на|но|ны)|дай(те)?|можно|прошу|"
    r"требу\w*|верните|пригласи\w*|вызов\w*|вызва\w*|напиш\w*)$"
)
# Words right after "оператор" that make it a phone carrier or similar.
_NOT_SUPPORT_AFTER = re.compile(r"^(связи|сотов\w*|мобильн\w*|мтс|билайн\w*|мегафон\w*|теле2)$")
_NOT_SUPPORT_BEFORE = re.compile(r"^(сотов\w*|мобильн\w*|телеком\w*)$")
# A number or quantity word before "человек" makes it a head count.
_QUANTITY = re.compile(
    r"^(\d+|одн\w*|один|дв\w*|тр\w*|четыр\w*|пят\w*|шест\w*|сем\w*|восьм\w*|девят\w*|"
    r"десят\w*|сколько|нескольк\w*|много|нас|на|для|групп\w*)$"
)
_WINDOW = 4


def _is_human_noun(tokens: list[str], index: int) -> bool:
    word = tokens[index]
    if not _HUMAN.match(word):
        return False
    after = tokens[index + 1] if index + 1 < len(tokens) else ""
    before = tokens[index - 1] if index > 0 else ""
    if word.startswith("оператор") and (
        _NOT_SUPPORT_AFTER.match(after) or _NOT_SUPPORT_BEFORE.match(before)
    ):
        return False
    return not (word.startswith(("человек", "люд")) and _QUANTITY.match(before))


def _negated(tokens: list[str], index: int) -> bool:
    return index > 0 and tokens[index - 1] in {"не", "ни", "без"}


def wants_human(text: str) -> bool:
    tokens = words(text)
    for index in range(len(tokens)):
        if not _is_human_noun(tokens, index):
            continue
        if index > 0 and _ALIVE.match(tokens[index - 1]):
            return True
        if len(tokens) <= 2:
            return True  # "Оператор!", "Оператора пожалуйста"
        window = range(max(0, index - _WINDOW), min(len(tokens), index + _WINDOW + 1))
        for near in window:
            if near != index and _REQUEST.match(tokens[near]) and not _negated(tokens, near):
                return True
    return False
