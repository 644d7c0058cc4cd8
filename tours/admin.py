from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tours.models import Booking, FaqEntry, Tour
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


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["reference", "tour", "contact_name", "participants", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["reference", "contact_name", "phone", "email"]
    raw_id_fields = ["tour", "user"]


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "tags", "is_published", "position"]
    list_filter = ["is_published"]
    search_fields = ["question", "answer", "tags"]
    list_editable = ["is_published", "position"]
