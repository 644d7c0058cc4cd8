"""Rate limits for the HTTP forms that take input (login, offline tickets).

django-ratelimit counts in the default cache, which is Redis: every server
process shares the counts. Only POSTs count; a refused POST gets HTTP 429
with Retry-After (the seconds left in the window) and never reaches the view.
The client IP is the one the sockets use (tatartours.client_ip, through
RATELIMIT_IP_META_KEY): trusted proxies are counted from the right of
X-Forwarded-For, so a client cannot rotate its address by writing one there.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

View = Callable[..., HttpResponseBase]
# (django-ratelimit key, name of the setting that holds its rate), e.g.
# ("ip", "LOGIN_RATE_LIMIT") or (login_username, "LOGIN_RATE_LIMIT_PER_USERNAME").
Limit = tuple[str | Callable[[str, HttpRequest], str], str]


def login_username(group: str, request: HttpRequest) -> str:
    """The posted username as authentication reads it, so that one account is one bucket.

    Django's login form strips the field and NFKC-normalises it (" admin",
    "admin\t" and "ａdmin" all log in as "admin"); case is folded too, as
    case-insensitive lookups are common and a bucket per capitalisation would
    multiply the limit.
    """
    raw = request.POST.get("username", "")
    return unicodedata.normalize("NFKC", raw).strip().casefold()[:200]


def too_many_requests(retry_after: int, *, as_json: bool) -> HttpResponse:
    message = _("Too many attempts. Please wait a minute and try again.")
    response: HttpResponse
    if as_json:
        error = {"code": "rate_limited", "message": message, "retry_after": retry_after}
        response = JsonResponse({"error": error}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


def throttle_posts(group: str, *limits: Limit, as_json: bool = False) -> Callable[[View], View]:
    """Refuse POSTs to the view beyond any of `limits` with 429."""

    def decorator(view: View) -> View:
        @wraps(view)
        def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method == "POST":
                for key, rate_setting in limits:
                    usage = get_usage(
                        request,
                        group=f"tatartours.{group}",
                        key=key,
                        rate=getattr(settings, rate_setting),
                        method="POST",
                        increment=True,
                    )
                    if usage is not None and usage["should_limit"]:
                        return too_many_requests(max(1, usage["time_left"]), as_json=as_json)
            return view(request, *args, **kwargs)

        return throttled

    return decorator
