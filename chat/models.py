"""Chat sessions and their messages: the durable truth of every conversation.

Clients resync by message id, so ids are what the protocol exposes; the
channel layer only carries notifications about rows that already exist.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ChatSession(models.Model):
    class Status(models.TextChoices):
        AI = "ai", _("AI assistant")
        PENDING = "pending", _("Waiting for an operator")
        OPERATOR = "operator", _("With an operator")
        CLOSED = "closed", _("Closed")

    # The public id goes to operators, logs and URLs; the secret token only to
    # the visitor, and only its SHA-256 is stored, so a leaked DB dump or an
    # operator cannot impersonate a visitor.
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_expires_at = models.DateTimeField(_("token expires"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_sessions",
        verbose_name=_("site user"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.AI)
    tour = models.ForeignKey(
        "tours.Tour",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_sessions",
        verbose_name=_("tour"),
        help_text=_("The tour page the visitor is on"),
    )
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    ai_tokens_used = models.PositiveIntegerField(_("AI tokens used"), default=0)
    # The newest visitor message an AI answer replied to (the id, not a key: it is
    # only compared). Kept by the statement that stores an answer, as the guard
    # that survives its lock wait: two generations for the same question (two
    # tabs, two processes) update this row one after the other, and PostgreSQL
    # checks the second's condition again on the row the first left.
    ai_answered_to = models.BigIntegerField(
        _("newest message answered by the AI"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_activity_at = models.DateTimeField(_("last activity"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        ordering = ["-last_activity_at"]
        indexes = [
            models.Index(fields=["status", "last_activity_at"], name="chat_session_status_idx"),
            models.Index(fields=["created_at"], name="chat_session_created_idx"),
        ]

    def __str__(self) -> str:
        return str(self.public_id)


class ChatMessage(models.Model):
    class Author(models.TextChoices):
        VISITOR = "visitor", _("Visitor")
        AI = "ai", _("AI assistant")
        OPERATOR = "operator", _("Operator")
        SYSTEM = "system", _("System")

    class AISource(models.TextChoices):
        MODEL = "model", _("Language model")
        OFFLINE = "offline", _("Offline answerer (knowledge base)")
        PARTIAL = "partial", _("Cut-off model answer")

    # Indexes every message pays for on insert: session_id has none of its own
    # (chat_msg_session_id_idx and the client_id constraint lead with it), and
    # operator and reply_to are indexed only where set (most messages have neither).
    session = models.ForeignKey(
        ChatSession,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("chat"),
        db_index=False,
    )
    author = models.CharField(_("author"), max_length=16, choices=Author.choices)
    text = models.TextField(_("text"))
    # Made by the client; the same client_id again is a retry, not a new message.
    # NULL, not "", for messages without one (AI, system): the unique constraint skips NULLs.
    client_id = models.CharField(  # noqa: DJ001
        _("client id"), max_length=64, null=True, blank=True
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_messages",
        verbose_name=_("operator"),
        db_index=False,
    )
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("in reply to"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # --- AI answers only ---
    ai_source = models.CharField(
        _("AI source"), max_length=16, choices=AISource.choices, blank=True
    )
    ai_model = models.CharField(_("model"), max_length=120, blank=True)
    ai_generation_id = models.CharField(_("generation id"), max_length=120, blank=True)
    ai_latency_ms = models.PositiveIntegerField(_("total latency, ms"), null=True, blank=True)
    ai_first_token_ms = models.PositiveIntegerField(
        _("time to first token, ms"), null=True, blank=True
    )
    ai_prompt_tokens = models.PositiveIntegerField(_("prompt tokens"), null=True, blank=True)
    ai_completion_tokens = models.PositiveIntegerField(
        _("completion tokens"), null=True, blank=True
    )
    ai_cost = models.DecimalField(
        _("cost, USD"), max_digits=12, decimal_places=8, null=True, blank=True
    )
    ai_fallback_used = models.BooleanField(_("fallback used"), default=False)
    ai_error = models.CharField(_("AI error"), max_length=300, blank=True)
    # Tools called, FAQ entries and tours used: what the metrics count.
    meta = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["id"]
        indexes = [
            # History and resync: WHERE session_id = ? AND id > ? ORDER BY id.
            models.Index(fields=["session", "id"], name="chat_msg_session_id_idx"),
            models.Index(fields=["created_at"], name="chat_msg_created_idx"),
            models.Index(fields=["author", "created_at"], name="chat_msg_author_created_idx"),
            # Deleting a user or a message (SET_NULL) looks these up; NULLs never match.
            models.Index(
                fields=["operator"],
                condition=Q(operator__isnull=False),
                name="chat_msg_operator_idx",
            ),
            models.Index(
                fields=["reply_to"],
                condition=Q(reply_to__isnull=False),
                name="chat_msg_reply_to_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client_id"],
                condition=Q(client_id__isnull=False),
                name="chat_msg_unique_client_id",
            ),
        ]

    def __str__(self) -> str:
        # The title of a transcript row in the admin: "Посетитель: …".
        return f"{self.get_author_display()}: {self.text[:60]}"


class Rating(models.Model):
    """Visitor satisfaction (CSAT) for one conversation: AI-only or with an operator."""

    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("chat")
    )
    support_request = models.OneToOneField(
        "support.SupportRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rating",
        verbose_name=_("support request"),
        help_text=_("Empty for a conversation with the AI only"),
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_1_to_5"
            ),
            # At most one AI-only rating per session.
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(support_request__isnull=True),
                name="rating_one_ai_rating_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5"


class BookingProposal(models.Model):
    """A booking offered in the chat, shown to the visitor as a confirmation card.

    Made by the AI's `propose_booking` tool, the offline answerer or the
    site's «Забронировать» button; it books nothing. Only the visitor's click
    on the card's confirm button (the `confirm_booking` frame) turns it into a
    `tours.Booking` (chat/booking.py).
    """

    class Origin(models.TextChoices):
        MODEL = "model", _("AI assistant")
        OFFLINE = "offline", _("Offline answerer")
        SITE = "site", _("The tour page's button")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="booking_proposals"
    )
    tour = models.ForeignKey(
        "tours.Tour", on_delete=models.CASCADE, related_name="chat_booking_proposals"
    )
    participants = models.PositiveIntegerField(_("participants"), validators=[MinValueValidator(1)])
    origin = models.CharField(_("proposed by"), max_length=16, choices=Origin.choices)
    message = models.ForeignKey(
        ChatMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="booking_proposals",
        help_text=_("The AI answer that proposed it"),
    )
    booking = models.OneToOneField(
        "tours.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_proposal",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("booking proposal")
        verbose_name_plural = _("booking proposals")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tour} × {self.participants}"
