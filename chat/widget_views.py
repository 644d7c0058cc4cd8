"""The chat widget's strings, served from Django's translation machinery.

widget.js marks its texts with `gettext("English msgid")`; `makemessages -d
djangojs` collects them into chat/locale/<lang>/LC_MESSAGES/djangojs.po and
this view serves the compiled catalog as JSON. The widget may be embedded on
another site, so the response allows any origin: it is public, holds no
visitor data and is fetched without credentials.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.i18n import JSONCatalog

CATALOG_MAX_AGE = 3600


class WidgetCatalog(JSONCatalog):
    domain = "djangojs"
    packages = ["chat"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The widget asks for the host page's language (?lang=ru); without a
        # known one, Django's usual negotiation (Accept-Language) applies.
        requested = request.GET.get("lang", "").lower()
        languages = {code for code, _ in settings.LANGUAGES}
        language = next(
            (code for code in (requested, requested.split("-")[0]) if code in languages), None
        )
        with translation.override(language or translation.get_language()):
            response = super().get(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        patch_cache_control(response, public=True, max_age=CATALOG_MAX_AGE)
        patch_vary_headers(response, ["Accept-Language"])
        return response
