from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        # chat never imports support: it reaches the second line through this hook.
        from chat.hooks import install_support_line
        from support.visitor import LINE

        install_support_line(LINE)

        from support.revocation import connect_signals

        # Open operator sockets close when the operator logs out or loses access.
        connect_signals()
