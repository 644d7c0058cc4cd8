"""Support queue actions. Filled in by the operator work (issue 4)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from chat.errors import ClientError


async def request_support_async(*, session_pk: int, reason: str) -> None:
    raise ClientError("unavailable", _("Operators are not available yet."))
