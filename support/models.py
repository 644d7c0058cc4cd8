"""The second line: handoffs to human operators, offline tickets, canned replies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SupportRequest(models.Model):
    """One handoff of a chat to a human, from the queue to its end.

    The timestamps are what the metrics read: waiting time is assigned_at -
    requested_at, first response is first_reply_at - assigned_at.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ASSIGNED = "assigned", _("Assigned")
        CLOSED = "closed", _("Closed")
        ABANDONED = "abandoned", _("Abandoned")

    class ClosedBy(models.TextChoices):
        OPERATOR = "operator", _("Operator")
        VISITOR = "visitor", _("Visitor")
        SYSTEM = "system", _("System")

    session = models.ForeignKey(
        "chat.ChatSession",
        on_delete=models.CASCADE,
        related_name="support_requests",
        verbose_name=_("chat"),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.WAITING
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
        verbose_name=_("operator"),
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    # Queue order. Equal to requested_at, except a chat returned to the queue
    # (operator gone) keeps its original place: first in line.
    queued_at = models.DateTimeField(_("queued"))
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_reply_at = models.DateTimeField(_("first operator reply"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.CharField(
        _("closed by"), max_length=16, choices=ClosedBy.choices, blank=True
    )
    # Back to the queue because the operator went offline or left the visitor
    # unanswered; the dashboard marks such chats and the metrics count them.
    requeue_count = models.PositiveSmallIntegerField(_("times requeued"), default=0)
    requeued_at = models.DateTimeField(_("last requeued"), null=True, blank=True)

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        ordering = ["-requested_at"]
        permissions = [("operate_support", _("Can answer visitors as a support operator"))]
        indexes = [
            models.Index(fields=["status", "queued_at"], name="support_req_queue_idx"),
            models.Index(fields=["operator", "status"], name="support_req_operator_idx"),
            models.Index(fields=["requested_at"], name="support_req_requested_idx"),
        ]
        constraints = [
            # A chat is in the queue or with an operator at most once at a time.
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(status__in=["waiting", "assigned"]),
                name="support_req_one_open_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} · {self.get_status_display()}"


class OperatorProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator_profile",
        verbose_name=_("user"),
    )
    display_name = models.CharField(_("display name"), max_length=80)
    max_chats = models.PositiveSmallIntegerField(
        _("max chats at once"),
        null=True,
        blank=True,
        help_text=_("Empty: the site-wide default"),
    )

    class Meta:
        verbose_name = _("operator profile")
        verbose_name_plural = _("operator profiles")

    def __str__(self) -> str:
        return self.display_name


class OfflineTicket(models.Model):
    """A question left while no operator could take the chat."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    session = models.ForeignKey(
        "chat.ChatSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offline_tickets",
        verbose_name=_("chat"),
    )
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    question = models.TextField(_("question"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("offline ticket")
        verbose_name_plural = _("offline tickets")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(email=""), name="ticket_has_phone_or_email"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.question[:60]}"


class CannedReply(models.Model):
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"))
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title
