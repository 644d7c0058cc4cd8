"""`scope["user"]` for the WebSockets, from the Django session cookie, in one middleware.

Channels' AuthMiddlewareStack is three middlewares (cookies, session, auth);
each copies the scope, and their frames, the scope copies and the session
wrapper stay alive as long as the socket does: ~2.9 KiB per idle socket
(tracemalloc over 300 registered visitor sockets), 7% of the idle target of
40 KiB. Our consumers read only `scope["user"]`, and nothing writes the
session over a socket (operators log in over HTTP), so this resolves the user
once at connect, with Channels' own `get_user` (the same session hash check),
and hands the consumer a scope with the user and the session key (with which
the operator socket re-checks its access before each privileged action).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from channels.auth import get_user
from django.conf import settings
from django.http.cookie import parse_cookie


class SessionUserMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        session_key = None
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookies = parse_cookie(value.decode("latin1"))
                session_key = cookies.get(settings.SESSION_COOKIE_NAME)
                break
        engine = import_module(settings.SESSION_ENGINE)
        user = await get_user({"session": engine.SessionStore(session_key)})
        return await self.inner(dict(scope, user=user, session_key=session_key), receive, send)
