"""Browser tests: Debian's Chromium driven by Playwright, against a real daphne.

Each test gets a fresh daphne (on a free port) wired to a fake OpenRouter on
loopback, and fresh browser contexts (empty localStorage, Russian locale).
Chromium is never downloaded: `make browser` installs Debian's package.

The tests use Playwright's async API: its sync API runs an event loop in the
test's thread, where Django refuses synchronous ORM calls.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.browser.personas import Site
from tests.fakes.openrouter import FakeOpenRouter
from tests.servers import ServerProcess, free_port, start_daphne

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Other sites embedding the widget, served from loopback: partner.test,
    # intruder.test. (Resolved to loopback, Chromium lets them reach our
    # loopback server, as a public site may reach a public one.)
    "--host-resolver-rules=MAP *.test 127.0.0.1",
]
# The partner site allowed to embed the widget (WIDGET_ALLOWED_ORIGINS: an origin
# is scheme, host and port, so the partner's page is served on a port fixed here).
PARTNER_HOST = "partner.test"
PARTNER_PORT = free_port()
PARTNER_ORIGIN = f"http://{PARTNER_HOST}:{PARTNER_PORT}"

# Generous: a loaded 2-core CI machine runs the whole suite.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` (Debian's chromium)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
def model() -> Iterator[FakeOpenRouter]:
    # Slow enough that the answer visibly streams in over a second or two.
    with FakeOpenRouter(api_key="test-key", first_token_delay=0.3, tokens_per_second=25) as fake:
        yield fake


@pytest.fixture
def server_overrides() -> dict[str, str]:
    """Extra settings for the test's daphne; a test parametrizes this to change them."""
    return {}


@pytest.fixture
def server_env(model: FakeOpenRouter, server_overrides: dict[str, str]) -> dict[str, str]:
    """The daphne's environment: the fake model, and the partner host may embed the widget."""
    return {
        "OPENROUTER_BASE_URL": model.base_url,
        "OPENROUTER_API_KEY": "test-key",
        "WIDGET_ALLOWED_ORIGINS": PARTNER_ORIGIN,
        **server_overrides,
    }


@pytest.fixture
def server(server_env: dict[str, str], transactional_db: None) -> Iterator[ServerProcess]:
    process = start_daphne(None, None, **server_env)
    yield process
    process.stop()


@pytest.fixture
async def site(
    browser: Browser, server: ServerProcess, server_env: dict[str, str]
) -> AsyncIterator[Site]:
    """The running site and a way to open visitors (and operators) on it."""
    async with Site(browser, server, server_env) as running:
        yield running
