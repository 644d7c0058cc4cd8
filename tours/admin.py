from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tours.models import Booking, FaqEntry, SearchAlias, Tour
from tours.templatetags.tours_extras import NBSP, rub, tour_dates


@admin.register(Tour)
class TourAdmin(admin.ModelAdmin):
    # Few, short columns: the list fits a 1440 px window beside the filters.
    list_display = ["title", "place", "dates", "price", "places", "status"]
    list_filter = ["status", "place"]
    search_fields = ["title", "slug", "place"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "start_date"

    @admin.display(description=_("dates"), ordering="start_date")
    def dates(self, obj: Tour) -> str:
        # Breakable here (a narrow column wraps "21 декабря / 2026"), unlike on the site.
        return tour_dates(obj).replace(NBSP, " ")

    @admin.display(description=_("price per person"), ordering="price_per_person")
    def price(self, obj: Tour) -> str:
        return rub(obj.price_per_person)

    @admin.display(description=_("places taken"), ordering="places_booked")
    def places(self, obj: Tour) -> str:
        return f"{obj.places_booked} / {obj.max_participants}"


class FromChatFilter(admin.EmptyFieldListFilter):
    """Bookings made from a chat card or not; a reverse one-to-one has no Russian name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = _("made in the chat")


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "tour",
        "contact_name",
        "participants",
        "total_price",
        "status",
        "hold_expires_at",
        "chat",
        "created_at",
    ]
    list_filter = ["status", ("chat_proposal", FromChatFilter)]
    search_fields = [
        "reference",
        "contact_name",
        "phone",
        "email",
        "chat_proposal__session__public_id",
    ]
    raw_id_fields = ["tour", "user", "confirmed_by"]
    readonly_fields = ["idempotency_key", "confirmed_at", "confirmed_by", "cancelled_at", "chat"]
    list_select_related = ["tour", "chat_proposal__session"]
    date_hierarchy = "created_at"

    @admin.display(description=_("chat"))
    def chat(self, booking: Booking) -> str:
        """The chat the booking was made in, linked to its page in the admin."""
        proposal = getattr(booking, "chat_proposal", None)
        if proposal is None:
            return "—"
        url = reverse("admin:chat_chatsession_change", args=[proposal.session_id])
        return format_html('<a href="{}">{}</a>', url, str(proposal.session.public_id)[:8])


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "tags", "is_published", "position"]
    list_filter = ["is_published"]
    search_fields = ["question", "answer", "tags"]
    list_editable = ["is_published", "position"]


@admin.register(SearchAlias)
class SearchAliasAdmin(admin.ModelAdmin):
    list_display = ["name", "place", "tour"]
    search_fields = ["name", "place", "tour__title"]
    autocomplete_fields = ["tour"]
