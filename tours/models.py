"""The site's catalogue: tours, bookings and the FAQ knowledge base."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import CombinedExpression
from django.utils.translation import gettext_lazy as _


class TourQuerySet(models.QuerySet["Tour"]):
    def published(self) -> TourQuerySet:
        return self.filter(status=Tour.Status.PUBLISHED)

    def upcoming(self) -> TourQuerySet:
        from django.utils import timezone

        return self.published().filter(start_date__gte=timezone.localdate())


class Tour(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    short_description = models.CharField(_("short description"), max_length=300)
    description = models.TextField(_("description"))
    place = models.CharField(_("city or place"), max_length=120, db_index=True)
    price_per_person = models.DecimalField(
        _("price per person, RUB"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    duration_hours = models.PositiveIntegerField(_("duration, hours"))
    max_participants = models.PositiveIntegerField(_("max participants"))
    places_booked = models.PositiveIntegerField(_("places booked"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TourQuerySet.as_manager()

    class Meta:
        verbose_name = _("tour")
        verbose_name_plural = _("tours")
        ordering = ["start_date", "title"]
        indexes = [models.Index(fields=["status", "start_date"], name="tour_status_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="tour_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(places_booked__lte=F("max_participants")),
                name="tour_not_overbooked",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("tours:detail", kwargs={"slug": self.slug})

    @property
    def free_places(self) -> int:
        return max(self.max_participants - self.places_booked, 0)

    @property
    def almost_sold_out(self) -> bool:
        """A few places left: at most 3, or at most a tenth of the group."""
        free = self.free_places
        return 0 < free <= max(3, -(-self.max_participants // 10))


def _new_booking_reference() -> str:
    # Unambiguous alphabet (no 0/O, 1/I) because visitors read it over the phone.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "TT-" + "".join(secrets.choice(alphabet) for _ in range(6))


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")
        # A pending hold nobody confirmed in time (tours/booking.py); places released.
        EXPIRED = "expired", _("Expired")

    # Statuses that hold places of the tour (counted in Tour.places_booked).
    HOLDING = (Status.PENDING, Status.CONFIRMED)

    tour = models.ForeignKey(
        Tour, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("tour")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("site user"),
    )
    contact_name = models.CharField(_("contact name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    participants = models.PositiveIntegerField(_("participants"), validators=[MinValueValidator(1)])
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reference = models.CharField(
        _("reference"), max_length=16, unique=True, default=_new_booking_reference
    )
    total_price = models.DecimalField(
        _("total price, RUB"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Made by the client (the chat card) so that a retried confirmation gives
    # back the same booking instead of a second one.
    idempotency_key = models.UUIDField(_("idempotency key"), null=True, blank=True, unique=True)
    hold_expires_at = models.DateTimeField(
        _("hold expires"),
        null=True,
        blank=True,
        help_text=_("A pending booking releases its places at this time unless confirmed"),
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-created_at"]
        indexes = [
            # The expiry sweep: pending holds by their deadline.
            models.Index(
                fields=["hold_expires_at"],
                name="booking_pending_hold_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.tour}"


def faq_search_document() -> SearchVector:
    """What FAQ search matches: the whole entry in Russian word forms.

    The one definition of the GIN index `faq_search_ru_idx` below and of the
    WHERE of ai/knowledge.py's prebuilt search, which compiles it, so the
    planner always finds the index for it.
    """
    return SearchVector("question", "answer", "tags", config="russian")


def faq_search_ranking() -> CombinedExpression:
    """How FAQ hits are ranked: the question and tags weigh more than the answer."""
    return (
        SearchVector("question", weight="A", config="russian")
        + SearchVector("tags", weight="A", config="russian")
        + SearchVector("answer", weight="C", config="russian")
    )


class FaqEntry(models.Model):
    """One question of the knowledge base the AI and the offline answerer use."""

    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    tags = models.CharField(
        _("tags"), max_length=300, blank=True, help_text=_("Comma-separated keywords")
    )
    is_published = models.BooleanField(_("published"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["position", "id"]
        indexes = [
            # Full-text search in Russian word forms over the whole entry.
            GinIndex(faq_search_document(), name="faq_search_ru_idx"),
        ]

    def __str__(self) -> str:
        return self.question


class SearchAlias(models.Model):
    """Another name visitors use for a place or a tour: "Раифский монастырь" for Раифа.

    The chat's retrieval reads a question's mention of `name` (in any word
    form, with typos or in Latin letters) as the `place` it stands for, or
    as a pointer to one `tour` (a sight inside it: "Кул-Шариф"). Data, so
    editors add the names visitors really write without a deployment.
    """

    name = models.CharField(
        _("name visitors use"),
        max_length=120,
        unique=True,
        help_text=_("E.g. «Раифский монастырь», «Булгар», «Кул-Шариф»"),
    )
    place = models.CharField(
        _("stands for the place"),
        max_length=120,
        blank=True,
        help_text=_("A tour's «city or place» exactly as in the tours, e.g. «Раифа»"),
    )
    tour = models.ForeignKey(
        Tour,
        verbose_name=_("or points at the tour"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="aliases",
    )

    class Meta:
        verbose_name = _("search alias")
        verbose_name_plural = _("search aliases")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(place="") | Q(tour__isnull=False), name="alias_has_a_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.tour or self.place}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.name = " ".join(self.name.split())
        self.place = " ".join(self.place.split())
        if not self.place and self.tour_id is None:
            raise ValidationError(_("Choose the place or the tour this name stands for."))
