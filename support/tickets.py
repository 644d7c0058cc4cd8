"""Checking an offline ticket's fields, for the socket event and the HTTP form alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from chat.errors import ClientError
from chat.guards import check_text
from chat.wire import has_unencodable_text
from support.models import OfflineTicket

NAME_MAX = 120
PHONE_MAX = 32
EMAIL_MAX = 254
QUESTION_MAX = 2000
_PHONE = re.compile(r"^\+?[0-9 ()\-]{5,32}$")


@dataclass(frozen=True)
class TicketFields:
    name: str
    phone: str
    email: str
    question: str


def _invalid(field: str, message: str) -> ClientError:
    return ClientError("invalid", message, field=field)


def _text(data: dict[str, Any], field: str, max_length: int) -> str:
    value = data.get(field)
    if value is None:
        return ""
    if not isinstance(value, str) or has_unencodable_text(value):
        raise _invalid(
            field, _("The field “%(field)s” is missing or has the wrong type.") % {"field": field}
        )
    value = value.strip()
    if len(value) > max_length:
        raise _invalid(field, _("At most %(limit)d characters, please.") % {"limit": max_length})
    return value


def clean_ticket(data: dict[str, Any]) -> TicketFields:
    """The ticket's fields, trimmed and checked; ClientError("invalid", field=...) if not."""
    name = _text(data, "name", NAME_MAX)
    phone = _text(data, "phone", PHONE_MAX)
    email = _text(data, "email", EMAIL_MAX)
    question = _text(data, "question", QUESTION_MAX)
    if not name:
        raise _invalid("name", _("Please tell us your name."))
    if not question:
        raise _invalid("question", _("Please write your question."))
    if not phone and not email:
        raise _invalid("phone", _("Please leave a phone number or an e-mail address."))
    if phone and (not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 5):
        raise _invalid("phone", _("This does not look like a phone number."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _invalid("email", _("This does not look like an e-mail address.")) from None
    # Operators read it: the same content filter as chat messages (`moderated`).
    check_text(f"{name}\n{question}")
    return TicketFields(name=name, phone=phone, email=email, question=question)


def ticket_data(ticket: OfflineTicket) -> dict[str, Any]:
    """A ticket as the dashboard shows it."""
    return {
        "id": ticket.pk,
        "name": ticket.name,
        "phone": ticket.phone,
        "email": ticket.email,
        "question": ticket.question,
        "status": ticket.status,
        "status_label": str(ticket.get_status_display()),
        "created_at": ticket.created_at.isoformat(),
        "session_id": str(ticket.session.public_id) if ticket.session else None,
        "handled_by": ticket.handled_by.get_username() if ticket.handled_by else None,
    }
