"""Texts of the dashboard's booking panel (support/static/support/dashboard_bookings.js)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def booking_panel_strings() -> dict[str, str]:
    return {
        "confirm": _("Confirm"),
        "cancel": _("Cancel booking"),
        "confirm_cancel": _("Cancel this booking and release its places?"),
        "proposed": _("Offered in the chat"),
        "people": _("people"),
        "held_until": _("held until"),
        "failed": _("The booking could not be changed."),
        "confirmed": _("The booking is confirmed; the visitor has been told."),
        "cancelled": _("The booking is cancelled; the visitor has been told."),
    }
