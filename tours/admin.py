from django.contrib import admin

from tours.models import Booking, FaqEntry, SearchAlias, Tour


@admin.register(Tour)
class TourAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "place",
        "start_date",
        "price_per_person",
        "places_booked",
        "max_participants",
        "status",
    ]
    list_filter = ["status", "place"]
    search_fields = ["title", "slug", "place"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "start_date"


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


@admin.register(SearchAlias)
class SearchAliasAdmin(admin.ModelAdmin):
    list_display = ["name", "place", "tour"]
    search_fields = ["name", "place", "tour__title"]
    autocomplete_fields = ["tour"]
