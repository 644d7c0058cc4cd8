"""Admin for chat sessions: transcripts are read-only for everyone.

A transcript is evidence of what was said; operators and admins read it,
nobody edits it. Ratings are the visitor's; also read-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Field
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from chat.models import ChatMessage, ChatSession, Rating
from chat.names import display_name

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

EMPTY = "—"


def short_moment(moment: datetime | None) -> str:
    """ "01.12.2026 20:25" in the site's time zone: list columns stay narrow."""
    if moment is None:
        return EMPTY
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def short_chat(session: ChatSession) -> str:
    """A chat as the dashboard names it: the start of its public id."""
    return str(session.public_id)[:8]


def operator_name(user: Any) -> str:
    """An operator as visitors and the dashboard name them ("Алия"), not by login."""
    return display_name(user) if user is not None else EMPTY


class OperatorFilter(admin.RelatedFieldListFilter):
    """Filter by operator, each listed by their display name; only those who appear."""

    def field_choices(
        self, field: Field[Any, Any], request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str | StrPromise]]:
        ids = model_admin.get_queryset(request).values_list(field.name, flat=True).distinct()
        users = get_user_model().objects.filter(pk__in=ids).select_related("operator_profile")
        choices: list[tuple[str, str | StrPromise]] = [
            (str(user.pk), display_name(user)) for user in users
        ]
        return sorted(choices, key=lambda choice: str(choice[1]))


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through the actions (locks, events), never a form.

    Staff may view and delete (retention); nobody adds or edits, superusers
    included: a transcript is evidence.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TranscriptInline(ReadOnlyInline):
    model = ChatMessage
    # The messages' own (translated) name; the transcript is what they are.
    verbose_name_plural = ChatMessage._meta.verbose_name_plural
    fields = readonly_fields = (
        "created_at",
        "author",
        "operator_name",
        "text",
        "ai_source",
        "ai_model",
    )
    ordering = ["id"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("operator__operator_profile")

    @admin.display(description=_("operator"))
    def operator_name(self, obj: ChatMessage) -> str:
        return operator_name(obj.operator)


class RatingInline(ReadOnlyInline):
    model = Rating
    fields = readonly_fields = ("score", "comment", "support_request", "created_at")


@admin.register(ChatSession)
class ChatSessionAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "status", "user", "tour", "created_at", "last_activity_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["public_id", "user__username", "user__email", "tour__title"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "tour"]
    readonly_fields = [
        "public_id",
        "status",
        "user",
        "tour",
        "client_ip",
        "user_agent",
        "ai_tokens_used",
        "created_at",
        "last_activity_at",
        "token_expires_at",
    ]
    exclude = ["token_hash"]
    # support/admin.py adds the session's support requests in front of these.
    inlines = [RatingInline, TranscriptInline]


@admin.register(ChatMessage)
class ChatMessageAdmin(ReadOnlyAdmin):
    """Search across all transcripts; read-only."""

    list_display = ["created_at", "session", "author", "operator_name", "short_text"]
    list_filter = ["author", "ai_source", ("operator", OperatorFilter), "created_at"]
    search_fields = ["text", "session__public_id"]
    date_hierarchy = "created_at"
    list_select_related = ["session", "operator__operator_profile"]

    @admin.display(description=_("operator"), ordering="operator__operator_profile__display_name")
    def operator_name(self, obj: ChatMessage) -> str:
        return operator_name(obj.operator)

    @admin.display(description=ChatMessage._meta.get_field("text").verbose_name)
    def short_text(self, obj: ChatMessage) -> str:
        return obj.text[:100]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["session", "score", "support_request", "created_at"]
    list_filter = ["score", "created_at"]
    search_fields = ["session__public_id", "comment"]
    list_select_related = ["session"]
