"""docker-compose.yml and the nginx config: N web replicas behind a WebSocket-aware proxy.

The machines that run the suite have no Docker engine, so the file is checked
as data (services, commands, dependencies); where a compose CLI exists,
`config` must accept it too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def default_value(value: object) -> str:
    """`${NAME:-default}` -> its default, as compose would substitute it when NAME is unset."""
    match = re.fullmatch(r"\$\{\w+:-([^}]*)\}", str(value))
    return match.group(1) if match else str(value)


def command(service: dict[str, Any]) -> list[str]:
    return [str(part) for part in service["command"]]


def test_the_stack_has_its_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "web", "sweeper", "proxy"}


def test_web_runs_several_daphne_replicas_with_the_contract_limits(
    compose: dict[str, Any],
) -> None:
    web = compose["services"]["web"]
    argv = command(web)
    assert argv[:3] == ["python", "-m", "tatartours.daphne_server"]
    assert argv[argv.index("--websocket-max-message-size") + 1] == "65536"
    assert argv[argv.index("--websocket-max-frame-size") + 1] == "65536"
    # The client IP comes from TRUSTED_PROXY_COUNT (the last X-Forwarded-For entry,
    # which nginx appended); --proxy-headers would take the first, the client's own.
    assert "--proxy-headers" not in argv
    assert default_value(web["environment"]["TRUSTED_PROXY_COUNT"]) == "1"
    assert int(default_value(web["deploy"]["replicas"])) >= 2
    assert "ports" not in web, "replicas are reached through the proxy only"
    assert web["environment"]["TATARTOURS_MODE"] == "production"


def test_migrations_run_once_before_the_web_and_the_sweeper(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert command(services["migrate"])[-2:] == ["migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "sweeper"):
        needs = services[name]["depends_on"]["migrate"]
        assert needs["condition"] == "service_completed_successfully"


def test_the_support_sweeper_has_its_own_service(compose: dict[str, Any]) -> None:
    assert command(compose["services"]["sweeper"])[-1] == "support_sweeper"


def test_the_proxy_upgrades_websockets_without_sticky_sessions(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "server web:8000" in conf
    for sticky in ("ip_hash", "hash $", "sticky"):
        assert sticky not in conf


def test_a_compose_cli_accepts_the_file_where_one_exists() -> None:
    if shutil.which("docker") and (
        subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        argv = ["docker", "compose", "config", "-q"]
    elif shutil.which("docker-compose"):
        argv = ["docker-compose", "config", "-q"]
    else:
        pytest.skip("no docker compose CLI here; the file was checked as data above")
    result = subprocess.run(
        argv,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "SECRET_KEY"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
