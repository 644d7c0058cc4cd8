"""The operator dashboard page and the widget's offline-ticket form endpoint."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from chat import booking as chat_booking
from chat.actions import find_session_by_token
from chat.errors import ClientError
from support import actions
from support.access import is_operator
from support.booking_panel import booking_panel_strings
from support.dashboard_strings import dashboard_strings
from support.models import CannedReply
from support.tickets import clean_ticket
from tatartours.origins import request_origin_allowed
from tatartours.throttle import throttle_posts

# A ticket is a few short fields; anything bigger is not one.
MAX_TICKET_BODY_BYTES = 16 * 1024


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """/support/: anonymous users go to the login page, non-operators get 403."""
    if not is_operator(request.user):
        raise PermissionDenied
    canned = [
        {"id": c.pk, "title": c.title, "text": c.text}
        for c in CannedReply.objects.filter(is_active=True)
    ]
    config = {
        "socket_path": "/ws/support/",
        "heartbeat_seconds": settings.SUPPORT_HEARTBEAT_SECONDS,
        "canned_replies": canned,
        "tickets": actions.recent_tickets(),
        "strings": dashboard_strings(),
        "booking_strings": booking_panel_strings(),
    }
    return render(request, "support/dashboard.html", {"config": config})


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return JsonResponse({"error": error}, status=status)


@csrf_exempt  # A JSON endpoint for the widget on other hosts; the Origin check replaces CSRF.
@throttle_posts("ticket", ("ip", "TICKET_RATE_LIMIT"), as_json=True)
@require_POST
def offline_ticket(request: HttpRequest) -> JsonResponse:
    """POST JSON {name, phone?, email?, question, token?}: a question for the operators.

    201 {id, message}; 400 {error: {code, message, field?}}; 403 for a foreign origin.
    """
    # Only the site's pages and the widget's hosts may post (the view is CSRF-exempt).
    if not request_origin_allowed(request):
        return _error(403, "forbidden", _("This page may not send tickets."))
    if len(request.body) > MAX_TICKET_BODY_BYTES:
        return _error(413, "too_long", _("The ticket is too long."))
    try:
        data = json.loads(request.body, parse_constant=lambda name: None)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_json", _("The message is not valid JSON."))
    if not isinstance(data, dict):
        return _error(400, "invalid_json", _("A frame must be a JSON object."))
    try:
        fields = clean_ticket(data)
    except ClientError as error:
        return _error(400, error.code, error.message, error.extra.get("field"))
    token = data.get("token")
    session = find_session_by_token(token) if isinstance(token, str) else None
    ticket = actions.create_offline_ticket(
        fields=fields, session_pk=session.pk if session else None
    )
    return JsonResponse(
        {"id": ticket.pk, "message": _("Thank you! We will get back to you as soon as possible.")},
        status=201,
    )


@require_POST
def booking_action(request: HttpRequest, reference: str, action: str) -> JsonResponse:
    """POST /support/bookings/<reference>/confirm/ or /cancel/ from the dashboard.

    Operators only (403 otherwise; the session cookie and CSRF token as for
    any form). 200 {booking}; 400/404 {error: {code, message, reason?}}.
    """
    if not request.user.is_authenticated or not is_operator(request.user):
        return _error(403, "forbidden", _("Your account may not answer visitors."))
    if action not in ("confirm", "cancel"):
        return _error(404, "not_found", _("There is no such booking."))
    try:
        if action == "confirm":
            booking = chat_booking.operator_confirm(
                reference=reference, operator_id=int(request.user.pk)
            )
        else:
            booking = chat_booking.operator_cancel(reference=reference)
    except ClientError as error:
        status = 404 if error.code == "not_found" else 400
        body = {"code": error.code, "message": error.message, **error.extra}
        return JsonResponse({"error": body}, status=status)
    return JsonResponse({"booking": chat_booking.booking_data(booking)})
