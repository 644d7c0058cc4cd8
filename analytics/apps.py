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
        # The socket shell (chat/transport.py) and the message path's prebuilt
        # SQL report through this hook; chat never imports analytics.
        from analytics.counters import error_frame_sent
        from analytics.sockets import socket_open
        from chat.hooks import Instrumentation, install_instrumentation

        install_instrumentation(
            Instrumentation(
                socket_open, error_frame_sent, signals.message_stored, signals.message_committed
            )
        )
