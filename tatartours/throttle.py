"""Rate limits for the HTTP forms that take input (login, offline tickets).

django-ratelimit counts in the default cache, which is Redis: every server
process shares the counts. Only POSTs count; a refused POST gets HTTP 429
with Retry-After (the seconds left in the window) and never reaches the view.
The client IP is REMOTE_ADDR: daphne's --proxy-headers sets it from the
proxy's X-Forwarded-For (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

View = Callable[..., HttpResponseBase]
# (django-ratelimit key, name of the setting that holds its rate), e.g.
# ("ip", "LOGIN_RATE_LIMIT") or ("post:username", "LOGIN_RATE_LIMIT_PER_USERNAME").
Limit = tuple[str, str]


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
