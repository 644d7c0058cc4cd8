"""Settings for the Tatartours support chat.

Everything that differs between machines comes from the environment (see
.env.example). Development defaults are safe on a laptop: Postgres and Redis
on 127.0.0.1, DEBUG on. `TATARTOURS_MODE` picks a profile:

- ``development`` (default): DEBUG on, demo-friendly.
- ``production``: DEBUG off, SECRET_KEY required, HTTPS/WSS behind a proxy,
  secure cookies and HSTS; ``manage.py check --deploy`` is clean.
- ``benchmark``: production settings with the visitor rate limits lifted and
  the load generator's origin accepted; nothing else differs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tatartours.env import (
    env_bool,
    env_float,
    env_int,
    env_int_set,
    env_list,
    env_origin_list,
    env_str,
    env_time_range,
)
from tatartours.redis import connection_options

BASE_DIR = Path(__file__).resolve().parent.parent

MODE = env_str("TATARTOURS_MODE", "development")
if MODE not in {"development", "production", "benchmark"}:
    raise ImproperlyConfigured(
        f"TATARTOURS_MODE must be development, production or benchmark, got {MODE!r}"
    )
PRODUCTION_LIKE = MODE in {"production", "benchmark"}

DEBUG = env_bool("DEBUG", not PRODUCTION_LIKE)

_DEV_SECRET = "dev-insecure-secret-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION_LIKE else _DEV_SECRET)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when TATARTOURS_MODE is production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
if MODE == "production" and "ALLOWED_HOSTS" not in os.environ:
    # The defaults are loopback names; a public site must say which hosts it serves
    # (they are also the origins allowed to open the WebSockets).
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when TATARTOURS_MODE is production")
# Other sites whose pages may embed the widget and open /ws/chat/: full origins
# (scheme, host, port: "https://partner.example"), compared whole (tatartours/origins.py).
WIDGET_ALLOWED_ORIGINS = env_origin_list("WIDGET_ALLOWED_ORIGINS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "tours",
    "chat",
    "support",
    "ai",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tatartours.urls"
ASGI_APPLICATION = "tatartours.asgi.application"
WSGI_APPLICATION = "tatartours.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# Django requires CONN_MAX_AGE = 0 with psycopg's pool; persistent connections
# are not for ASGI, the pool is.
DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tatartours")
# Health checks: after a database outage the pool still holds connections the
# server closed; with a pool, Django has psycopg check one (an empty query)
# before lending it, so that failure never reaches a visitor message.
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, failing fast while PostgreSQL is known to be down.
    _db["ENGINE"] = "tatartours.postgresql"
_db["OPTIONS"] = {
    "pool": {
        "min_size": env_int("DB_POOL_MIN", 2, minimum=0),
        "max_size": env_int("DB_POOL_MAX", 10, minimum=1),
        # A checkout waits only when PostgreSQL is unreachable: a process runs
        # its DB work on one thread, so it rarely holds two connections at
        # once. 1 s keeps the hop running when an outage starts inside the
        # 2 s the contract gives for `unavailable` (tatartours/db_health.py).
        "timeout": env_float("DB_POOL_TIMEOUT", 1.0, minimum=0.1),
        # psycopg's pool retries a failed connection with backoff (1, 2, 4, 8 s...)
        # and meanwhile does not grow; after a 5 s outage its next try came up to
        # 8 s after PostgreSQL was back. Giving up after 1 s lets the next
        # checkout connect at once.
        "reconnect_timeout": env_float("DB_POOL_RECONNECT_TIMEOUT", 1.0, minimum=0.1),
    },
    # Fail fast when Postgres is unreachable, so the visitor gets `unavailable`
    # within seconds instead of a hung socket.
    "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 3, minimum=1),
    # Server-side binding lets psycopg prepare a statement on a connection once
    # it ran DB_PREPARE_THRESHOLD times there, so Postgres stops parsing and
    # planning the message path's statements every time. Safe with psycopg's
    # own pool (connections are never shared); turn off (0) behind PgBouncer
    # in transaction mode.
    **(
        {"server_side_binding": True, "prepare_threshold": _prepare_threshold}
        if (_prepare_threshold := env_int("DB_PREPARE_THRESHOLD", 5, minimum=0))
        else {}
    ),
}
# The message path's own pool (tatartours/async_db.py): psycopg's AsyncConnectionPool
# on each process's event loop, beside Django's pool of the DB thread. Each
# message is one short autocommit statement, so a few connections serve
# hundreds of messages a second; the reconnect behaves as Django's pool above.
# A checkout does not end at the pool timeout: it waits while PostgreSQL
# answers, up to ASYNC_DB_CHECKOUT_LIMIT (async_db._checkout); the pool
# timeout is only the pool's default for other callers.
# MIN 0: connections are made when the first messages need them, and kept.
ASYNC_DB_POOL_MIN = env_int("ASYNC_DB_POOL_MIN", 0, minimum=0)
ASYNC_DB_POOL_MAX = env_int("ASYNC_DB_POOL_MAX", 6, minimum=1)
ASYNC_DB_POOL_TIMEOUT = _db["OPTIONS"]["pool"]["timeout"]
# How long a message may wait for a connection of a busy pool while PostgreSQL
# answers (an outage is noticed sooner, by asking it: tatartours/async_db.py).
ASYNC_DB_CHECKOUT_LIMIT = env_float("ASYNC_DB_CHECKOUT_LIMIT", 5.0, minimum=0.5)
# Group commit of the message statements (tatartours/group_commit.py): at most this
# many transactions of waiting messages in flight per process, each committing every
# message that waits when it starts (0: each message alone, in autocommit).
ASYNC_DB_GROUP_COMMITTERS = env_int("ASYNC_DB_GROUP_COMMITTERS", 2, minimum=0)
# The most callers' work in one such transaction (its locks are held until it commits).
ASYNC_DB_GROUP_MAX = env_int("ASYNC_DB_GROUP_MAX", 50, minimum=1)
# A group of like messages for distinct chats as one statement (tatartours/group_commit.py,
# `Batch`); off: a pipeline of their statements, as for any other group.
ASYNC_DB_GROUP_BATCHES = env_bool("ASYNC_DB_GROUP_BATCHES", True)
ASYNC_DB_POOL_RECONNECT_TIMEOUT = _db["OPTIONS"]["pool"]["reconnect_timeout"]
# The async pool prepares its statements on their first run (None: never, behind PgBouncer):
# it runs only the message path's handful of statements, every one of them hot, so
# waiting DB_PREPARE_THRESHOLD runs only plans each again per connection (the operator
# statement ~3 ms a plan; ~150 plans in a relay run, docs/benchmarks.md).
ASYNC_DB_PREPARE_THRESHOLD = 0 if _prepare_threshold else None
# Separate test database per checkout/worker when several suites share one server.
_db["TEST"] = {"NAME": env_str("TEST_DB_NAME", f"test_{_db['NAME']}")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, presence, rate limits, cache ----------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Connections each process may open for presence, locks and rate limits (the
# channel layer has its own); past it, calls wait up to 2 s for a free one.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 50, minimum=1)
# After a Redis restart every pooled connection is stale and failed its next
# command: "could not record that a visitor left" and lost publishes for up to
# 145 s, one idle connection at a time. redis-py retries a command on a fresh
# connection after a connection error (a few tries, backoff 50 ms to 0.5 s),
# and PINGs a connection idle longer than REDIS_HEALTH_CHECK_SECONDS first.
# Used by the presence/limits pool (tatartours/redis.py) and the channel layer.
REDIS_RETRIES = env_int("REDIS_RETRIES", 3, minimum=0)
REDIS_HEALTH_CHECK_SECONDS = env_int("REDIS_HEALTH_CHECK_SECONDS", 10, minimum=0)


# The channel layer (issue 16, docs/benchmarks.md): "pubsub", our Redis pub/sub
# layer (tatartours/pubsub_layer.py, the default: about twice the core layer at
# the relay floor, and a consumer whose events Redis lost is told so), or "core",
# channels-redis's list-based layer with the same loss rule
# (tatartours/channel_layer.py), kept to compare against (the benchmark's
# `--env CHANNEL_LAYER=core`).
CHANNEL_LAYER = env_str("CHANNEL_LAYER", "pubsub")
if CHANNEL_LAYER not in ("pubsub", "core"):
    raise ImproperlyConfigured(f"CHANNEL_LAYER must be pubsub or core, not {CHANNEL_LAYER!r}")
# group_send silently drops messages for a full channel; a busy operator socket
# needs headroom. Clients resync by message id anyway.
CHANNEL_CAPACITY = env_int("CHANNEL_CAPACITY", 1000, minimum=10)
CHANNEL_PREFIX = env_str("CHANNEL_PREFIX", "tatartours")
if CHANNEL_LAYER == "pubsub":
    _layer: dict[str, Any] = {
        "BACKEND": "tatartours.pubsub_layer.PubSubChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    # For the publishing pool; the subscription connection waits
                    # without a read timeout and has its own health check, a PING
                    # after health_check_interval seconds of silence (the layer
                    # is lost, and says so, when even that is not answered).
                    "socket_timeout": 5,
                    "socket_connect_timeout": 3,
                    **connection_options(REDIS_RETRIES, REDIS_HEALTH_CHECK_SECONDS),
                }
            ],
            "capacity": CHANNEL_CAPACITY,
            # A socket whose consumer ended without leaving its groups is
            # forgotten this many seconds after its last receive.
            "expiry": 60,
            # SUBSCRIBE not confirmed within this: Redis is as good as gone.
            "subscribe_timeout": 5,
            "prefix": CHANNEL_PREFIX,
        },
    }
else:
    _layer = {
        "BACKEND": "tatartours.channel_layer.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    # redis-py 8 times a read out after 5 s by default: exactly the
                    # layer's blocking pop (BZPOPMIN, 5 s), so on a quiet process the
                    # receive loop raised TimeoutError and killed a consumer (its
                    # socket closed with 1011) every few seconds. Outlast the pop.
                    "socket_timeout": 15,
                    "socket_connect_timeout": 3,
                    **connection_options(REDIS_RETRIES, REDIS_HEALTH_CHECK_SECONDS),
                }
            ],
            "capacity": CHANNEL_CAPACITY,
            "expiry": 60,
            # Keep group membership at least as long as daphne keeps a socket.
            "group_expiry": 86400,
            "prefix": CHANNEL_PREFIX,
        },
    }
CHANNEL_LAYERS = {"default": _layer}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_PREFIX", "tatartours"),
    }
}

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/support/"
LOGOUT_REDIRECT_URL = "/"

# --- i18n: Russian first; English and Tatar can follow with catalogs only ----
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English")), ("tt", _("Tatar"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
# Where `collectstatic` puts the files daphne serves (through WhiteNoise) in production.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION_LIKE
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION_LIKE

# --- Chat limits (the wire contract's numbers) ------------------------------
CHAT_MAX_MESSAGE_CHARS = 2000
CHAT_MAX_FRAME_BYTES = 64 * 1024
CHAT_HISTORY_LIMIT = env_int("CHAT_HISTORY_LIMIT", 50, minimum=1)
CHAT_TOKEN_TTL_DAYS = env_int("CHAT_TOKEN_TTL_DAYS", 30, minimum=1)
# Visitor messages per minute, per chat session and per client IP, shared by
# all server processes through Redis. Lifted in benchmark mode only.
CHAT_RATE_LIMIT_PER_MINUTE = env_int(
    "CHAT_RATE_LIMIT_PER_MINUTE", 0 if MODE == "benchmark" else 20, minimum=0
)
# Spam throttles (docs/security.md); 0 turns one off. Benchmark mode lifts them,
# as the load generator repeats its texts from one IP.
_LIMIT_DEFAULT_OFF = MODE == "benchmark"
# The same text (case and spacing aside) at most this often per window and session.
CHAT_REPEAT_LIMIT = env_int("CHAT_REPEAT_LIMIT", 0 if _LIMIT_DEFAULT_OFF else 3, minimum=0)
CHAT_SPAM_WINDOW_SECONDS = env_int("CHAT_SPAM_WINDOW_SECONDS", 120, minimum=1)
# Links: at most this many in one message (else `moderated`), and per window and session.
CHAT_MAX_LINKS_PER_MESSAGE = env_int("CHAT_MAX_LINKS_PER_MESSAGE", 3, minimum=0)
CHAT_LINK_LIMIT = env_int("CHAT_LINK_LIMIT", 0 if _LIMIT_DEFAULT_OFF else 6, minimum=0)
# New visitor sockets per minute per client IP, and registrations per minute per
# chat session (a tab stuck in a reconnect loop, or a script opening sockets).
CHAT_CONNECTIONS_PER_MINUTE = env_int(
    "CHAT_CONNECTIONS_PER_MINUTE", 0 if _LIMIT_DEFAULT_OFF else 60, minimum=0
)
CHAT_REGISTERS_PER_MINUTE = env_int(
    "CHAT_REGISTERS_PER_MINUTE", 0 if _LIMIT_DEFAULT_OFF else 30, minimum=0
)
# Calls for an operator (request_support) and ends of the call (end_support), each
# at most this many per window, per chat session and per socket; 0 turns it off.
CHAT_SUPPORT_REQUEST_LIMIT = env_int(
    "CHAT_SUPPORT_REQUEST_LIMIT", 0 if _LIMIT_DEFAULT_OFF else 5, minimum=0
)
CHAT_SUPPORT_WINDOW_SECONDS = env_int("CHAT_SUPPORT_WINDOW_SECONDS", 600, minimum=1)
# Registrations per minute per client IP (tokenless and forged tokens included:
# each would start a session), and per socket over its life (the widget makes one).
CHAT_REGISTERS_PER_IP_PER_MINUTE = env_int(
    "CHAT_REGISTERS_PER_IP_PER_MINUTE", 0 if _LIMIT_DEFAULT_OFF else 60, minimum=0
)
CHAT_REGISTERS_PER_SOCKET = env_int("CHAT_REGISTERS_PER_SOCKET", 3, minimum=0)
# How many reverse proxies in front of daphne append to X-Forwarded-For. 0: the
# client address is the connection's peer. N: the N-th address from the right
# of X-Forwarded-For (tatartours/client_ip.py), for HTTP and WebSockets alike.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# django-ratelimit (HTTP forms): login attempts and offline tickets per IP.
RATELIMIT_USE_CACHE = "default"
# The client IP by the sockets' rule (TRUSTED_PROXY_COUNT), not daphne's REMOTE_ADDR.
RATELIMIT_IP_META_KEY = "tatartours.client_ip.ratelimit_ip"
LOGIN_RATE_LIMIT = env_str("LOGIN_RATE_LIMIT", "10/m")
LOGIN_RATE_LIMIT_PER_USERNAME = env_str("LOGIN_RATE_LIMIT_PER_USERNAME", "5/m")
TICKET_RATE_LIMIT = env_str("TICKET_RATE_LIMIT", "5/m")

# --- Bookings (tours/booking.py, docs/booking.md) ------------------------------
# A booking made from the chat holds its places this long, unless an operator
# (or, later, a payment) confirms it; then the places are released.
BOOKING_HOLD_MINUTES = env_int("BOOKING_HOLD_MINUTES", 30, minimum=1)
# Places one booking may take (a group larger than this talks to an operator).
BOOKING_MAX_PARTICIPANTS = env_int("BOOKING_MAX_PARTICIPANTS", 10, minimum=1)

# --- AI (OpenRouter) --------------------------------------------------------
OPENROUTER_API_KEY = env_str("OPENROUTER_API_KEY", "")
OPENROUTER_BASE_URL = env_str("OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1").rstrip("/")
AI_MODELS = env_list("AI_MODELS", ["openai/gpt-4", "meta-llama/llama-3.1-8b-instruct"])
AI_SITE_URL = env_str("AI_SITE_URL", "http://127.0.0.1:8000")
AI_SITE_TITLE = env_str("AI_SITE_TITLE", "Туры по Татарстану")
AI_CONTEXT_MESSAGES = env_int("AI_CONTEXT_MESSAGES", 10, minimum=1)
AI_MAX_TOKENS = env_int("AI_MAX_TOKENS", 600, minimum=16)
AI_CONNECT_TIMEOUT = env_float("AI_CONNECT_TIMEOUT", 5.0, minimum=0.1)
AI_FIRST_TOKEN_TIMEOUT = env_float("AI_FIRST_TOKEN_TIMEOUT", 15.0, minimum=0.1)
AI_TOTAL_TIMEOUT = env_float("AI_TOTAL_TIMEOUT", 60.0, minimum=0.1)
# Streamed answers (ai_chunk frames); off: one JSON answer per model turn.
AI_STREAM = env_bool("AI_STREAM", True)
# Attempts per model turn (client-side fallback over AI_MODELS), waits between
# them: Retry-After capped at AI_RETRY_AFTER_CAP seconds (a visitor is
# waiting), else jittered exponential backoff from AI_BACKOFF_BASE seconds.
AI_MAX_ATTEMPTS = env_int("AI_MAX_ATTEMPTS", 3, minimum=1)
AI_RETRY_AFTER_CAP = env_float("AI_RETRY_AFTER_CAP", 3.0, minimum=0.0)
AI_BACKOFF_BASE = env_float("AI_BACKOFF_BASE", 0.3, minimum=0.0)
# Circuit breaker per model (per process): skip a model after AI_BREAKER_FAILURES
# consecutive failures, letting one probe request through every
# AI_BREAKER_PROBE_INTERVAL seconds (it answers again within seconds of recovery).
AI_BREAKER_FAILURES = env_int("AI_BREAKER_FAILURES", 5, minimum=1)
AI_BREAKER_PROBE_INTERVAL = env_float("AI_BREAKER_PROBE_INTERVAL", 3.0, minimum=0.1)
AI_MAX_CONNECTIONS = env_int("AI_MAX_CONNECTIONS", 100, minimum=1)
# Tool calling: off, or for models listed in AI_MODELS_WITHOUT_TOOLS, the
# prompt is enriched with matching tours and FAQ entries instead.
AI_TOOLS_ENABLED = env_bool("AI_TOOLS_ENABLED", True)
AI_MODELS_WITHOUT_TOOLS = env_list("AI_MODELS_WITHOUT_TOOLS", [])
AI_MAX_TOOL_ROUNDS = env_int("AI_MAX_TOOL_ROUNDS", 3, minimum=0)
AI_FAQ_IN_PROMPT = env_int("AI_FAQ_IN_PROMPT", 3, minimum=0)
# Tokens (prompt + completion) one chat session may spend on the model; past
# it, answers come from the knowledge base.
AI_SESSION_TOKEN_BUDGET = env_int("AI_SESSION_TOKEN_BUDGET", 40000, minimum=0)

# --- Live operators (support app); see docs/support.md ------------------------
# Chats one operator may hold at once; OperatorProfile.max_chats overrides it.
SUPPORT_MAX_CHATS_PER_OPERATOR = env_int("SUPPORT_MAX_CHATS_PER_OPERATOR", 3, minimum=1)
# Presence: the dashboard pings every SUPPORT_HEARTBEAT_SECONDS; a socket not
# heard from for SUPPORT_PRESENCE_TTL_SECONDS is gone (a crashed process leaves no ghost).
SUPPORT_HEARTBEAT_SECONDS = env_int("SUPPORT_HEARTBEAT_SECONDS", 15, minimum=1)
SUPPORT_PRESENCE_TTL_SECONDS = env_int("SUPPORT_PRESENCE_TTL_SECONDS", 45, minimum=2)
if SUPPORT_PRESENCE_TTL_SECONDS <= SUPPORT_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "SUPPORT_PRESENCE_TTL_SECONDS must be longer than SUPPORT_HEARTBEAT_SECONDS"
    )
# An operator offline this long (after the presence TTL) loses their chats to the queue.
SUPPORT_OPERATOR_GRACE_SECONDS = env_int("SUPPORT_OPERATOR_GRACE_SECONDS", 60, minimum=0)
# A visitor left unanswered this long goes back to the queue; 0 turns it off.
SUPPORT_UNANSWERED_SECONDS = env_int("SUPPORT_UNANSWERED_SECONDS", 300, minimum=0)
# A waiting request is abandoned when its visitor has had no socket open this
# long, and in any case after SUPPORT_MAX_WAIT_SECONDS in the queue.
SUPPORT_VISITOR_GONE_SECONDS = env_int("SUPPORT_VISITOR_GONE_SECONDS", 120, minimum=1)
# Each server process tells Redis it is alive this often; visitor sockets of a
# process silent for SUPPORT_VISITOR_GONE_SECONDS (killed, crashed) are gone.
SUPPORT_PROCESS_HEARTBEAT_SECONDS = env_float(
    "SUPPORT_PROCESS_HEARTBEAT_SECONDS", 10.0, minimum=0.2
)
if SUPPORT_PROCESS_HEARTBEAT_SECONDS * 2 > SUPPORT_VISITOR_GONE_SECONDS:
    # A live process must beat at least twice within the grace, or its
    # visitors would be taken for gone between two beats.
    raise ImproperlyConfigured(
        "SUPPORT_PROCESS_HEARTBEAT_SECONDS must be at most half of SUPPORT_VISITOR_GONE_SECONDS"
    )
SUPPORT_MAX_WAIT_SECONDS = env_int("SUPPORT_MAX_WAIT_SECONDS", 1800, minimum=1)
# The wait estimate before there is any history to learn from.
SUPPORT_DEFAULT_WAIT_SECONDS = env_int("SUPPORT_DEFAULT_WAIT_SECONDS", 120, minimum=1)
# Working hours in TIME_ZONE ("00:00-24:00": always) and ISO weekdays (1 = Monday).
SUPPORT_WORKING_HOURS = env_time_range("SUPPORT_WORKING_HOURS", "00:00-24:00")
SUPPORT_WORKING_DAYS = env_int_set("SUPPORT_WORKING_DAYS", "1-7", minimum=1, maximum=7)
# How often `manage.py support_sweeper` runs the sweep (abandon, requeue, positions).
SUPPORT_SWEEP_SECONDS = env_float("SUPPORT_SWEEP_SECONDS", 5.0, minimum=0.5)

# --- Metrics (analytics app); see docs/metrics.md -----------------------------
# /metrics answers loopback clients (METRICS_ALLOW_LOOPBACK) and requests with
# "Authorization: Bearer <METRICS_TOKEN>". A same-host reverse proxy that does
# not send X-Forwarded-For makes every request look local: turn loopback off.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOW_LOOPBACK = env_bool("METRICS_ALLOW_LOOPBACK", True)

# --- Security (production mode) ----------------------------------------------
if PRODUCTION_LIKE:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a commitment browsers keep for months; the operator of the
        # site opts in (SECURE_HSTS_PRELOAD=1), check --deploy need not nag about it.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every page (django-csp; docs/security.md). Scripts only
# from our own origin, none inline: the site, the dashboard and the admin run no
# inline script (the dashboard's config is a JSON data block). Inline style
# attributes stay allowed: the tour cards' colours, the places meter, the admin's
# and the analytics charts' SVG use them, and a style cannot run code. The widget
# on a partner's page is under that page's policy, not ours (docs/widget.md).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        # 'self' covers ws:// and wss:// to the page's own host (CSP Level 3).
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "null": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # Scanners send foreign Host headers all day; Django answers 400 and would
        # log each one as an ERROR with a traceback. Not an error of ours.
        "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
        "daphne": {"level": "WARNING"},
        # One INFO line per model request is noise; failures are logged by ai.client.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
