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
        # The socket shell (chat/transport.py) counts sockets and error frames
        # through this hook; chat never imports analytics.
        from analytics.counters import error_frame_sent
        from analytics.sockets import socket_open
        from chat.hooks import SocketObserver, install_socket_observer

        install_socket_observer(SocketObserver(socket_open, error_frame_sent))
