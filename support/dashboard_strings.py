"""Texts the dashboard's JavaScript shows, translated on the server.

The page embeds them with json_script, so the Russian UI needs no
JavaScript catalog and no build step.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


def dashboard_strings() -> dict[str, str]:
    return {
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "not_logged_in": _("Your session has ended. Please log in again."),
        "forbidden": _("Your account may not answer visitors."),
        "online": _("Online"),
        "away": _("Away"),
        "queue_empty": _("Nobody is waiting."),
        "show_more": _("Show more"),
        "no_chats": _("You hold no chats. Take one from the queue."),
        "take": _("Take"),
        "waiting": _("waiting"),
        "requeued": _("back in the queue"),
        "held_by": _("with"),
        "visitor": _("Visitor"),
        "guest": _("Guest"),
        "ai": _("AI assistant"),
        "operator": _("Operator"),
        "system": _("System"),
        "you": _("You"),
        "typing": _("The visitor is typing…"),
        "close": _("End chat"),
        "close_confirm": _("End the conversation? The visitor will be asked to rate it."),
        "transfer": _("Transfer"),
        "transfer_to": _("Transfer the chat to:"),
        "transfer_none": _("No other operator is online."),
        "cancel": _("Cancel"),
        "send": _("Send"),
        "composer": _("Your answer… (Enter sends, Shift+Enter for a new line)"),
        "canned": _("Canned replies"),
        "tour": _("Tour"),
        "no_tour": _("The visitor is not on a tour page."),
        "visitor_info": _("Visitor"),
        "account": _("Account"),
        "anonymous": _("Not logged in"),
        "bookings": _("Bookings"),
        "no_bookings": _("No bookings."),
        "since": _("In the chat since"),
        "reason": _("Request"),
        "price": _("Price per person"),
        "free_places": _("Free places"),
        "dates": _("Dates"),
        "open_tour": _("Open the tour page"),
        "closed_by_visitor": _("The visitor ended the conversation."),
        "closed_by_you": _("The conversation has ended."),
        "closed_by_system": _(
            "The chat went back to the queue: the visitor waited too long for an answer."
        ),
        "transferred_to": _("The chat was handed over to"),
        "transferred_from": _("Handed over by"),
        "new_request": _("New request"),
        "tickets": _("Offline tickets"),
        "tickets_empty": _("No tickets."),
        "ticket_new": _("New"),
        "ticket_in_progress": _("In progress"),
        "ticket_done": _("Done"),
        "take_ticket": _("Take on"),
        "done_ticket": _("Mark done"),
        "error": _("Error"),
        "operators_online": _("Operators available"),
        "chats": _("Chats"),
        "queue": _("Queue"),
        "select_chat": _("Select a chat on the left."),
        "minutes_short": _("min"),
        "seconds_short": _("s"),
        "sound_on": _("Sound on"),
        "sound_off": _("Sound off"),
        "not_delivered": _("Not sent"),
    }
