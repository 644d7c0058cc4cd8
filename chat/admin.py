"""Admin for chat sessions: transcripts are read-only for everyone.

A transcript is evidence of what was said; operators and admins read it,
nobody edits it. Ratings are the visitor's; also read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from chat.models import ChatMessage, ChatSession, Rating


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
    fields = readonly_fields = ("created_at", "author", "operator", "text", "ai_source", "ai_model")
    ordering = ["id"]


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

    list_display = ["created_at", "session", "author", "operator", "short_text"]
    list_filter = ["author", "ai_source", "created_at"]
    search_fields = ["text", "session__public_id"]
    date_hierarchy = "created_at"
    list_select_related = ["session", "operator"]

    @admin.display(description=ChatMessage._meta.get_field("text").verbose_name)
    def short_text(self, obj: ChatMessage) -> str:
        return obj.text[:100]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["session", "score", "support_request", "created_at"]
    list_filter = ["score", "created_at"]
    search_fields = ["session__public_id", "comment"]
    list_select_related = ["session"]
