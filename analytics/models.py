"""Daily counts of events that leave no row elsewhere (refusals of the guards)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyCounter(models.Model):
    """How many times `name` happened on `day` (the site's local date).

    Incremented with one upsert (`analytics.counters`), never read-modify-write,
    so concurrent processes cannot lose counts.
    """

    day = models.DateField(_("day"))
    name = models.CharField(_("name"), max_length=64)
    count = models.PositiveBigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("daily counter")
        verbose_name_plural = _("daily counters")
        ordering = ["-day", "name"]
        constraints = [
            models.UniqueConstraint(fields=["day", "name"], name="analytics_counter_day_name"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name}: {self.count}"
