"""Decoding and validating WebSocket frames of the wire contract.

Shared by the visitor and operator sockets. Everything a client can send is
checked here before any business code sees it: JSON objects only, no
NaN/Infinity, no NUL, no lone surrogates, fields of the right type. The frames
themselves are typed in chat/frames_in.py and support/frames_in.py; their
`FrameDecoder` (below) decodes and checks one in a single call.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from typing import Any, Union, get_type_hints

import msgspec
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


# Ids and counters are PostgreSQL bigints; a larger number must not reach a query.
MAX_INT = 2**63 - 1


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


# --- Typed incoming frames ------------------------------------------------------------
# Each frame a client may send is a msgspec Struct tagged by `type` (chat/frames_in.py,
# support/frames_in.py). One `FrameDecoder.decode` call parses and validates a frame:
# msgspec checks JSON and the field types, then each field's `Check` (below) applies
# what a type cannot say (no NUL, a UUID in any form uuid.UUID reads, trimmed text).
# When msgspec refuses a frame, the decoder redoes it field by field with the standard
# json module, in the order the fields are declared, so that the error frame is
# exactly the one the contract's tests pin: the same code, the same Russian message,
# the same client_id echo, the same first field named. That path runs only for
# refused frames (and ones msgspec cannot read but json can: a lone surrogate escape
# in a field we ignore), never for the good ones.


class Check:
    """What a field's type cannot say: `run` returns the value to keep, or raises.

    `echo_client_id`: this field's errors name the frame's (already checked)
    client_id, as the message text's do, so the client knows which send failed.
    """

    echo_client_id = False

    def run(self, field: str, value: Any, fields: dict[str, Any]) -> Any:
        """Strings (and None where the type allows it) without NUL or lone surrogates."""
        if isinstance(value, str) and has_unencodable_text(value):
            raise _invalid(field)
        return value


class ClientIdCheck(Check):
    def run(self, field: str, value: Any, fields: dict[str, Any]) -> Any:
        return require_client_id({"client_id": value})


class UuidCheck(Check):
    """Any spelling uuid.UUID reads; kept in its canonical form."""

    def run(self, field: str, value: Any, fields: dict[str, Any]) -> Any:
        return str(require_uuid({field: value}, field))


class SlugCheck(Check):
    """A tour slug; an empty one is no slug (None)."""

    def __init__(self, *, required: bool = False) -> None:
        self.required = required

    def run(self, field: str, value: Any, fields: dict[str, Any]) -> Any:
        data = {field: value}
        return require_slug(data, field) if self.required else optional_slug(data, field)


class MessageTextCheck(Check):
    """The chat text: trimmed, not empty, within CHAT_MAX_MESSAGE_CHARS (`too_long`)."""

    echo_client_id = True

    def run(self, field: str, value: Any, fields: dict[str, Any]) -> Any:
        return require_message_text({"message": value}, fields.get("client_id"))


class Raw(Check):
    """Passed on as the client sent it: checked further down (the offline ticket's fields)."""

    def run(self, field: str, value: Any, fields: dict[str, Any]) -> Any:
        return value


def _field_checks(cls: type[msgspec.Struct]) -> list[tuple[msgspec.structs.FieldInfo, Any, Check]]:
    """The fields of a frame type in declared order, each with its type and its Check."""
    hints = get_type_hints(cls, include_extras=True)
    result = []
    for info in msgspec.structs.fields(cls):
        hint = hints[info.name]
        checks = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Check)]
        result.append((info, hint, checks[0] if checks else Check()))
    return result


class FrameDecoder:
    """Decodes the frames one socket accepts: a tagged union of Structs."""

    def __init__(self, *frame_types: type[msgspec.Struct]) -> None:
        self.types: dict[str, type[msgspec.Struct]] = {}
        self._tags: dict[type[msgspec.Struct], str] = {}
        for frame_type in frame_types:
            tag = str(msgspec.inspect.type_info(frame_type).tag)  # type: ignore[attr-defined]
            self.types[tag] = frame_type
            self._tags[frame_type] = tag
        self._checks = {tag: _field_checks(cls) for tag, cls in self.types.items()}
        union: Any = Union[tuple(frame_types)]  # noqa: UP007 - a runtime union of classes
        self._decoder = msgspec.json.Decoder(union)

    def tag(self, frame: msgspec.Struct) -> str:
        """The frame's `type` (msgspec keeps the tag on the class, not the instance)."""
        return self._tags[type(frame)]

    def decode(self, text: str) -> msgspec.Struct:
        """The frame `text` holds, checked; ClientError as the contract's error frame."""
        try:
            frame = self._decoder.decode(text)
        except Exception:
            # Refused (or unreadable for msgspec): the exact error, or a frame json reads.
            return self.decode_exactly(text)
        tag = self.tag(frame)
        fields: dict[str, Any] = {}
        for info, _hint, check in self._checks[tag]:
            value = check.run(info.name, getattr(frame, info.name), fields)
            fields[info.name] = value
            setattr(frame, info.name, value)
        return frame

    def decode_exactly(self, text: str) -> msgspec.Struct:
        data = decode_frame(text)
        frame_type = data["type"]
        cls = self.types.get(frame_type)
        if cls is None:
            named = frame_type if _KNOWN_LOOKING_TYPE.fullmatch(frame_type) else "?"
            raise ClientError(
                "unknown_type", _("Unknown message type: %(type)s.") % {"type": named}
            )
        fields: dict[str, Any] = {}
        for info, hint, check in self._checks[frame_type]:
            if info.name in data:
                raw = data[info.name]
            elif info.required:
                raise self._field_error(info.name, check, fields)
            else:
                raw = info.default
            try:
                value = msgspec.convert(raw, type=hint)
            except (msgspec.ValidationError, UnicodeEncodeError):
                # A lone surrogate fails a string's length check as an encoding error.
                raise self._field_error(info.name, check, fields) from None
            fields[info.name] = check.run(info.name, value, fields)
        return cls(**fields)

    def _field_error(self, field: str, check: Check, fields: dict[str, Any]) -> ClientError:
        return _invalid(field, fields.get("client_id") if check.echo_client_id else None)


# A type is named back in `unknown_type` only when it looks like one of ours.
_KNOWN_LOOKING_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
