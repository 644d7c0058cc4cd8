"""Production mode: `check --deploy` is clean, and a real server speaks HTTPS-only."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.servers import ROOT, ServerProcess, start_daphne

PRODUCTION = {
    "TATARTOURS_MODE": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "tours.example,127.0.0.1",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "TATARTOURS_MODE"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_mode_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"SUPPORT_HEARTBEAT_SECONDS": "60", "SUPPORT_PRESENCE_TTL_SECONDS": "45"},
            "SUPPORT_PRESENCE_TTL_SECONDS",
        ),
        (
            {"SUPPORT_PROCESS_HEARTBEAT_SECONDS": "90", "SUPPORT_VISITOR_GONE_SECONDS": "120"},
            "SUPPORT_PROCESS_HEARTBEAT_SECONDS",
        ),
    ],
    ids=["operator-presence-outlives-its-heartbeat", "a-process-beats-twice-per-grace"],
)
def test_timings_that_contradict_each_other_stop_the_start(env, named):
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_development_mode_is_what_check_deploy_warns_about():
    """The check really looks: the development profile is not deployable."""
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


# --- a real server in production mode ---------------------------------------


def get(url: str, **headers: str) -> tuple[int, httpx.Headers]:
    response = httpx.get(
        url, headers={"Host": "tours.example", **headers}, follow_redirects=False, timeout=10
    )
    return response.status_code, response.headers


@pytest.fixture(scope="module")
def production_server(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    # As a deployment does: collect the static files (hashed names), then serve.
    static_root = str(tmp_path_factory.mktemp("static"))
    collected = manage("collectstatic", "--noinput", **PRODUCTION, STATIC_ROOT=static_root)
    assert collected.returncode == 0, collected.stderr
    with django_db_blocker.unblock():
        server = start_daphne(
            TATARTOURS_MODE="production",
            SECRET_KEY=PRODUCTION["SECRET_KEY"],
            ALLOWED_HOSTS=PRODUCTION["ALLOWED_HOSTS"],
            DEBUG="0",
            STATIC_ROOT=static_root,
        )
    yield server
    server.stop()
    assert "Traceback" not in server.log()


@pytest.mark.server
def test_plain_http_is_redirected_to_https(production_server):
    status, headers = get(f"{production_server.http_url}/no-such-page/")
    assert status == 301
    assert headers["Location"].startswith("https://tours.example/")


@pytest.mark.server
def test_https_behind_the_proxy_gets_hsts_and_safe_headers(production_server):
    status, headers = get(
        f"{production_server.http_url}/no-such-page/", **{"X-Forwarded-Proto": "https"}
    )
    assert status == 404
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert "includeSubDomains" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.server
def test_an_unknown_host_is_refused(production_server):
    status, _ = get(
        f"{production_server.http_url}/", Host="evil.example", **{"X-Forwarded-Proto": "https"}
    )
    assert status == 400
