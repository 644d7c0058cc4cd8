from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # Live Prometheus counters for every stored chat message, whoever stores it.
        from analytics import signals

        signals.connect()
