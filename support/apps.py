from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from support.revocation import connect_signals

        # Open operator sockets close when the operator logs out or loses access.
        connect_signals()
