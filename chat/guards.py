"""What a visitor must pass before the chat stores or opens anything: one place.

The visitor consumer calls `check_connection` when a socket opens,
`check_register` before a registration, and `check_visitor_message` before a
message is stored. Each raises a `ClientError` with a contract code:

- `moderated`: the content filter refused the text, or it holds too many
  links; sending it again will not help. Nothing is stored, nothing reaches
  the AI or an operator.
- `rate_limited` (with `retry_after` and `limit`): too many messages for the
  session or the client IP, the same text repeated, too many links in a
  short time, or too many sockets. Waiting helps.

The windows live in Redis (chat.ratelimit), shared by every process. A Redis
error propagates: the transport answers `unavailable` and nothing is stored.
See docs/security.md.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from chat import moderation, ratelimit
from chat.errors import ClientError
from chat.links import count_links
from chat.ratelimit import Verdict, Window
from chat.tokens import hash_token
from tatartours.client_ip import scope_client_ip

logger = logging.getLogger(__name__)

# Accept-then-close code for a socket refused by a throttle (HTTP 429's twin).
CLOSE_RATE_LIMITED = 4429

_MINUTE = 60
_SPACES = re.compile(r"\s+")


class Throttled(ClientError):
    """`rate_limited`: the attempt was not counted; the client may retry after `retry_after`."""

    def __init__(self, verdict: Verdict, client_id: str | None = None) -> None:
        assert verdict.window is not None
        super().__init__(
            "rate_limited",
            _throttle_message(verdict.window.name),
            client_id=client_id,
            retry_after=verdict.retry_after,
            limit=verdict.window.name,
        )


def _throttle_message(name: str) -> str:
    messages = {
        "messages": _("You are sending messages too fast. Please wait a little."),
        "repeat": _("You have already sent this message several times. Please wait a little."),
        "links": _("Too many links in a short time. Please wait a little."),
        "connections": _("Too many connections from your network. Please wait a little."),
        "registrations": _("This chat reconnects too often. Please wait a little."),
        "tickets": _("You have sent several requests already. Please wait a little."),
        "support": _("You have called an operator several times already. Please wait a little."),
    }
    return messages.get(name, messages["messages"])


@dataclass(frozen=True)
class Sender:
    """Who is sending: the chat session (public id) and the client's IP, if known."""

    session_id: str
    client_ip: str | None


def client_ip(scope: dict[str, Any]) -> str | None:
    """The visitor's IP address for the per-IP limits: the rule HTTP uses too
    (tatartours.client_ip: TRUSTED_PROXY_COUNT proxies counted from the right)."""
    return scope_client_ip(scope)


# --- content ----------------------------------------------------------------


def check_text(text: str, *, client_id: str | None = None) -> None:
    """Refuse obscene or insulting text with `moderated` (any visitor-written text)."""
    if moderation.offending_word(text) is not None:
        raise ClientError(
            "moderated",
            _("Your message was not sent: it contains words we do not allow. Please rephrase it."),
            client_id=client_id,
        )


def _check_links(links: int, client_id: str) -> None:
    limit = settings.CHAT_MAX_LINKS_PER_MESSAGE
    if limit and links > limit:
        raise ClientError(
            "moderated",
            _("Your message was not sent: it holds too many links (at most %(limit)d).")
            % {"limit": limit},
            client_id=client_id,
        )


def _fingerprint(text: str) -> str:
    """The same text up to case, spacing, compatibility forms and invisible characters
    (an appended U+200B or Hangul filler must not make a repeat another text)."""
    visible = moderation.strip_invisible(unicodedata.normalize("NFKC", text))
    canonical = _SPACES.sub(" ", visible.casefold()).strip()
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# --- windows ----------------------------------------------------------------


def message_windows(sender: Sender, text: str, links: int) -> list[Window]:
    per_minute = settings.CHAT_RATE_LIMIT_PER_MINUTE
    spam_seconds = settings.CHAT_SPAM_WINDOW_SECONDS
    windows = [
        Window("messages", ratelimit.key("msg", "session", sender.session_id), per_minute, _MINUTE)
    ]
    if sender.client_ip:
        windows.append(
            Window("messages", ratelimit.key("msg", "ip", sender.client_ip), per_minute, _MINUTE)
        )
    windows.append(
        Window(
            "repeat",
            ratelimit.key("repeat", sender.session_id, _fingerprint(text)),
            settings.CHAT_REPEAT_LIMIT,
            spam_seconds,
        )
    )
    if links:
        windows.append(
            Window(
                "links",
                ratelimit.key("links", sender.session_id),
                settings.CHAT_LINK_LIMIT,
                spam_seconds,
                weight=links,
            )
        )
    return windows


async def _hit(windows: Sequence[Window], member: str, client_id: str | None = None) -> None:
    verdict = await ratelimit.hit(windows, member)
    if not verdict.allowed:
        raise Throttled(verdict, client_id)


async def check_visitor_message(sender: Sender, *, client_id: str, text: str) -> None:
    """Everything a visitor message must pass before it is stored.

    Content first (no Redis: a refused text uses up no window), then all the
    windows at once. The windows count each client_id once, so a resend of
    the same message after a reconnect is free. A resend of a message
    stored long ago may still be refused here: the consumer then looks the
    client_id up and acknowledges the stored message instead.
    """
    check_text(text, client_id=client_id)
    links = count_links(text)
    _check_links(links, client_id)
    # Members are per session, so another session reusing a client_id still counts.
    await _hit(message_windows(sender, text, links), f"{sender.session_id}:{client_id}", client_id)


def parse_rate(rate: str) -> tuple[int, int]:
    """django-ratelimit's "5/m" as (5, 60 seconds); "0/m" or "" means unlimited."""
    count, _slash, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(period[-1:].lower(), 60)
    multiple = int(period[:-1]) if period[:-1].isdigit() else 1
    return (int(count) if count.isdigit() else 0), seconds * multiple


async def check_offline_ticket(ip: str | None, session_id: str | None) -> None:
    """Offline tickets sent over the socket: TICKET_RATE_LIMIT per client IP and session.

    The HTTP form has the same limit through django-ratelimit (support/views.py).
    """
    limit, seconds = parse_rate(settings.TICKET_RATE_LIMIT)
    windows = []
    if ip:
        windows.append(Window("tickets", ratelimit.key("ticket", "ip", ip), limit, seconds))
    if session_id:
        windows.append(
            Window("tickets", ratelimit.key("ticket", "session", session_id), limit, seconds)
        )
    await _hit(windows, uuid.uuid4().hex)


async def check_connection(ip: str | None) -> None:
    """At most CHAT_CONNECTIONS_PER_MINUTE new visitor sockets per client IP."""
    if not ip:
        return
    window = Window(
        "connections",
        ratelimit.key("connect", ip),
        settings.CHAT_CONNECTIONS_PER_MINUTE,
        _MINUTE,
    )
    await _hit([window], uuid.uuid4().hex)


async def check_register(token: str | None, ip: str | None) -> None:
    """Registrations per minute: CHAT_REGISTERS_PER_MINUTE per chat session (by
    its token) and CHAT_REGISTERS_PER_IP_PER_MINUTE per client IP.

    The IP window also counts registrations without a token or with a forged
    one, each of which would otherwise start a fresh session with a fresh
    token window.
    """
    windows = []
    if token:
        windows.append(
            Window(
                "registrations",
                ratelimit.key("register", hash_token(token)[:32]),
                settings.CHAT_REGISTERS_PER_MINUTE,
                _MINUTE,
            )
        )
    if ip:
        windows.append(
            Window(
                "registrations",
                ratelimit.key("register", "ip", ip),
                settings.CHAT_REGISTERS_PER_IP_PER_MINUTE,
                _MINUTE,
            )
        )
    await _hit(windows, uuid.uuid4().hex)


def check_socket_registrations(done: int) -> None:
    """At most CHAT_REGISTERS_PER_SOCKET registrations on one socket.

    The widget registers once per socket (and again only after logging in);
    a script re-registering on one socket would open a session each time.
    Waiting does not help: the client must open a new socket.
    """
    limit = settings.CHAT_REGISTERS_PER_SOCKET
    if limit and done >= limit:
        window = Window("registrations", "socket", limit, _MINUTE)
        raise Throttled(Verdict(allowed=False, retry_after=_MINUTE, window=window))


async def check_support_cycle(kind: str, session_id: str, socket_id: str) -> None:
    """`request_support` and `end_support` (`kind`: "request" or "end"): at most
    CHAT_SUPPORT_REQUEST_LIMIT of each per CHAT_SUPPORT_WINDOW_SECONDS, per chat
    session and per socket. Each one reaches every operator's dashboard, so a
    script cycling them would flood the queue and the operators."""
    limit, seconds = settings.CHAT_SUPPORT_REQUEST_LIMIT, settings.CHAT_SUPPORT_WINDOW_SECONDS
    windows = [
        Window("support", ratelimit.key("support", kind, "session", session_id), limit, seconds),
        Window("support", ratelimit.key("support", kind, "socket", socket_id), limit, seconds),
    ]
    await _hit(windows, uuid.uuid4().hex)
