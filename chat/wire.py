"""Decoding and validating WebSocket frames of the wire contract.

Shared by the visitor and operator sockets. Everything a client can send is
checked here before any business code sees it: JSON objects only, no
NaN/Infinity, no NUL, no lone surrogates, fields of the right type.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from chat.errors import ClientError


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_frame(text: str) -> dict[str, Any]:
    """Parse one text frame into a dict with a string `type`."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise ClientError("invalid_json", _("The message is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ClientError("invalid_json", _("A frame must be a JSON object."))
    frame_type = data.get("type")
    if not isinstance(frame_type, str) or not frame_type:
        raise ClientError("invalid", _("The field “type” is required and must be a string."))
    return data


def has_unencodable_text(value: str) -> bool:
    """True for NUL (Postgres text cannot hold it) or lone surrogates (not UTF-8)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _invalid(field: str, client_id: str | None = None) -> ClientError:
    return ClientError(
        "invalid",
        _("The field “%(field)s” is missing or has the wrong type.") % {"field": field},
        client_id=client_id,
    )


def require_str(data: dict[str, Any], field: str, *, max_length: int = 200) -> str:
    value = data.get(field)
    if not isinstance(value, str) or has_unencodable_text(value) or len(value) > max_length:
        raise _invalid(field)
    return value


def optional_str(data: dict[str, Any], field: str, *, max_length: int = 200) -> str | None:
    if data.get(field) is None:
        return None
    return require_str(data, field, max_length=max_length)


def require_bool(data: dict[str, Any], field: str) -> bool:
    value = data.get(field)
    if not isinstance(value, bool):
        raise _invalid(field)
    return value


# Ids and counters are PostgreSQL bigints; a larger number must not reach a query.
MAX_INT = 2**63 - 1


def optional_int(data: dict[str, Any], field: str, *, minimum: int = 0) -> int | None:
    value = data.get(field)
    if value is None:
        return None
    # bool is an int in Python; the contract means a JSON number.
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_INT:
        raise _invalid(field)
    return value


def require_int(data: dict[str, Any], field: str, *, minimum: int = 0) -> int:
    value = optional_int(data, field, minimum=minimum)
    if value is None:
        raise _invalid(field)
    return value


def require_client_id(data: dict[str, Any]) -> str:
    """The client-made UUID that makes a message send idempotent."""
    value = data.get("client_id")
    if not isinstance(value, str):
        raise _invalid("client_id")
    try:
        uuid.UUID(value)
    except ValueError:
        raise _invalid("client_id") from None
    return value.lower()


def valid_client_id(data: dict[str, Any]) -> str | None:
    """The frame's client_id if it is a well-formed UUID, else None (never raises)."""
    try:
        return require_client_id(data)
    except ClientError:
        return None


def require_uuid(data: dict[str, Any], field: str) -> uuid.UUID:
    value = data.get(field)
    if not isinstance(value, str):
        raise _invalid(field)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _invalid(field) from None


_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")


def optional_slug(data: dict[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SLUG.match(value):
        raise _invalid(field)
    return value


def require_slug(data: dict[str, Any], field: str) -> str:
    value = optional_slug(data, field)
    if value is None:
        raise _invalid(field)
    return value


def _invisible(ch: str) -> bool:
    # Zero-width and other format characters, controls, spaces: nothing to read.
    return ch.isspace() or unicodedata.category(ch) in {"Cf", "Cc", "Zs", "Zl", "Zp"}


def require_message_text(data: dict[str, Any], client_id: str | None = None) -> str:
    """The chat text: trimmed, non-empty, within the contract's length limit."""
    value = data.get("message")
    if not isinstance(value, str):
        raise _invalid("message", client_id)
    if has_unencodable_text(value):
        raise ClientError(
            "invalid",
            _("The message contains characters that cannot be stored."),
            client_id=client_id,
        )
    text = value.strip()
    if not text or all(_invisible(ch) for ch in text):
        raise ClientError("invalid", _("The message is empty."), client_id=client_id)
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(text) > limit:
        raise ClientError(
            "too_long",
            _("The message is too long: at most %(limit)d characters.") % {"limit": limit},
            client_id=client_id,
        )
    return text
