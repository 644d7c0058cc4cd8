"""Admin for the support queue: requests, offline tickets, canned replies, operators."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat.admin import (
    ChatSessionAdmin,
    OperatorFilter,
    ReadOnlyAdmin,
    ReadOnlyInline,
    operator_name,
    short_chat,
    short_moment,
)
from chat.models import ChatSession
from support import actions
from support.models import CannedReply, OfflineTicket, OperatorProfile, SupportRequest


@admin.register(SupportRequest)
class SupportRequestAdmin(ReadOnlyAdmin):
    """A record of what happened; the queue itself is run from the dashboard."""

    # Narrow columns (short chat id, short times; requeues on the detail page):
    # the list fits a 1440 px window beside the admin's menu and the filters.
    list_display = [
        "chat",
        "status",
        "operator_name",
        "requested",
        "assigned",
        "first_reply",
        "closed",
        "closed_by",
    ]
    list_filter = ["status", "closed_by", ("operator", OperatorFilter), "requested_at"]
    search_fields = [
        "session__public_id",
        "reason",
        "operator__username",
        "operator__operator_profile__display_name",
    ]
    date_hierarchy = "requested_at"
    list_select_related = ["session", "operator__operator_profile"]
    readonly_fields = [
        "session",
        "reason",
        "status",
        "operator_name",
        "requested_at",
        "queued_at",
        "assigned_at",
        "first_reply_at",
        "closed_at",
        "closed_by",
        "requeue_count",
        "requeued_at",
    ]

    @admin.display(description=_("operator"), ordering="operator__operator_profile__display_name")
    def operator_name(self, obj: SupportRequest) -> str:
        return operator_name(obj.operator)

    @admin.display(description=_("chat"), ordering="session__public_id")
    def chat(self, obj: SupportRequest) -> str:
        return short_chat(obj.session)

    @admin.display(description=_("requested"), ordering="requested_at")
    def requested(self, obj: SupportRequest) -> str:
        return short_moment(obj.requested_at)

    @admin.display(description=_("assigned"), ordering="assigned_at")
    def assigned(self, obj: SupportRequest) -> str:
        return short_moment(obj.assigned_at)

    @admin.display(description=_("first operator reply"), ordering="first_reply_at")
    def first_reply(self, obj: SupportRequest) -> str:
        return short_moment(obj.first_reply_at)

    @admin.display(description=_("closed"), ordering="closed_at")
    def closed(self, obj: SupportRequest) -> str:
        return short_moment(obj.closed_at)

    # An open request is the chat's state (waiting in the queue, or an
    # operator on it): deleting only the record would leave the visitor
    # waiting for nobody, or the chat held by an operator who no longer has
    # it. Staff delete closed ones (retention); an open one is closed from
    # the dashboard, or goes with its chat (deleting the chat announces it).

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """The delete page and the bulk delete refuse open requests, saying why.

        (Not `has_delete_permission`: Django asks that for every request a
        deleted chat takes with it, and deleting the chat is the right way.)
        """
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        open_count = sum(1 for obj in objs if obj.status != SupportRequest.Status.CLOSED)
        if open_count:
            perms_needed = {
                *perms_needed,
                str(
                    ngettext(
                        "%(count)d open support request (close the chat first)",
                        "%(count)d open support requests (close the chats first)",
                        open_count,
                    )
                    % {"count": open_count}
                ),
            }
        return deleted, counts, perms_needed, protected


@admin.register(OfflineTicket)
class OfflineTicketAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "phone",
        "email",
        "short_question",
        "status",
        "handled_by_name",
        "created_at",
    ]
    list_select_related = ["handled_by__operator_profile"]
    list_filter = ["status", "created_at"]
    search_fields = ["name", "phone", "email", "question"]
    date_hierarchy = "created_at"
    list_editable = ["status"]
    readonly_fields = ["session", "name", "phone", "email", "question", "created_at"]
    fields = ["name", "phone", "email", "question", "session", "status", "handled_by", "created_at"]
    raw_id_fields = ["handled_by"]

    @admin.display(description=_("question"))
    def short_question(self, obj: OfflineTicket) -> str:
        return obj.question[:80]

    @admin.display(description=_("handled by"))
    def handled_by_name(self, obj: OfflineTicket) -> str:
        return operator_name(obj.handled_by)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: OfflineTicket, form: Any, change: bool) -> None:
        """The form and the list's status column: dashboards see the change, as after
        `set_ticket_status` (published when the admin's transaction commits)."""
        super().save_model(request, obj, form, change)
        actions.ticket_changed(obj.pk)


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "short_text", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["title", "text"]

    @admin.display(description=_("text"))
    def short_text(self, obj: CannedReply) -> str:
        return obj.text[:80]


@admin.register(OperatorProfile)
class OperatorProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "max_chats"]
    search_fields = ["display_name", "user__username"]
    raw_id_fields = ["user"]


class SupportRequestInline(ReadOnlyInline):
    model = SupportRequest
    fields = readonly_fields = (
        "status",
        "operator_name",
        "requested_at",
        "assigned_at",
        "first_reply_at",
        "closed_at",
    )

    @admin.display(description=_("operator"))
    def operator_name(self, obj: SupportRequest) -> str:
        return operator_name(obj.operator)


# A chat session's page shows its support requests first. chat does not know
# about support (dependencies point one way), so this app re-registers the
# session admin with its inline in front of chat's own.
admin.site.unregister(ChatSession)


@admin.register(ChatSession)
class ChatSessionWithSupportAdmin(ChatSessionAdmin):
    inlines = [SupportRequestInline, *ChatSessionAdmin.inlines]

    # Deleting a chat that waits for or talks to an operator changes the queue:
    # the same announcements as when it leaves it (support.actions.delete_chats).
    def delete_model(self, request: HttpRequest, obj: ChatSession) -> None:
        actions.delete_chats(ChatSession.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ChatSession]) -> None:
        actions.delete_chats(queryset)
