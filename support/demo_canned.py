"""Demo canned replies: what operators of a tours site type again and again.

Loaded by `manage.py ensure_demo_admin` (part of `make run`), so the
dashboard's strip of quick replies is useful on first look. Idempotent:
keyed by title; an operator's edits to the text are kept.
"""

from __future__ import annotations

from django.db import transaction

from support.models import CannedReply

# (title, text)
DEMO_CANNED_REPLIES: list[tuple[str, str]] = [
    (
        "Приветствие",
        "Здравствуйте! Меня зовут {name}, я оператор «Туров по Татарстану». Чем помочь?",
    ),
    ("Уточню", "Минуту, уточняю информацию и сразу вернусь с ответом."),
    (
        "Номер брони",
        "Подскажите, пожалуйста, номер брони (он начинается с TT-) — так я быстрее её найду.",
    ),
    (
        "Бронь подтверждена",
        "Ваша бронь подтверждена. Сбор за 15 минут до начала; точное место и время — "
        "на странице тура.",
    ),
    (
        "Отмена и возврат",
        "При отмене не позднее чем за 48 часов до начала тура вернём 100% стоимости, "
        "позже — 50%. Деньги вернутся на карту в течение 10 рабочих дней.",
    ),
    (
        "Дети",
        "Дети до 7 лет едут бесплатно без отдельного места, от 7 до 14 лет — со скидкой 20%.",
    ),
    ("Прощание", "Спасибо за обращение! Хорошей поездки по Татарстану."),
]


@transaction.atomic
def load_demo_canned_replies(operator_name: str = "Алия") -> int:
    """Create the demo canned replies that are missing; returns how many were created."""
    created_count = 0
    for position, (title, text) in enumerate(DEMO_CANNED_REPLIES, start=1):
        _, created = CannedReply.objects.get_or_create(
            title=title,
            defaults={"text": text.replace("{name}", operator_name), "position": position},
        )
        created_count += created
    return created_count
