"""Personas for browser tests: the running site, a visitor's tab with the widget,
an operator's dashboard tab.

Playwright's CSS and role locators pierce open shadow roots, so the widget's
insides are reached like any element; `Visitor.widget` scopes them to it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from playwright.async_api import Browser, BrowserContext, Locator, Page, Response, expect

from tests.servers import ROOT, ServerProcess, start_daphne

T = TypeVar("T")

DOCS = ROOT / "docs"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Notes every distinct typing line and streamed text, however briefly shown.
RECORDER = """() => {
  const root = document.querySelector("tatartours-chat").shadowRoot;
  const seen = (window.__widgetSeen = { typing: [], streams: [] });
  const note = (list, text) => text && list[list.length - 1] !== text && list.push(text);
  new MutationObserver(() => {
    const typing = root.querySelector(".typing");
    if (typing && !typing.hidden) note(seen.typing, typing.textContent);
    const streams = root.querySelectorAll(".msg--streaming .text");
    for (const node of streams) note(seen.streams, node.textContent);
  }).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
}"""


async def screenshot(page: Page, name: str) -> None:
    """Save a screenshot to test-artifacts/; with UPDATE_SCREENSHOTS=1 also to docs/."""
    artifacts = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    image = await page.screenshot(path=artifacts / name, animations="disabled")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        (DOCS / name).write_bytes(image)


@contextmanager
def serving_page(html: str, port: int = 0) -> Iterator[int]:
    """Another website on loopback serving one page (on `port`, or a free one); yields its port."""
    body = html.encode("utf-8")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Visitor:
    """One visitor's browser tab (its own context: own localStorage and cookies)."""

    context: BrowserContext
    page: Page
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def widget(self) -> Locator:
        return self.page.locator("tatartours-chat")

    @property
    def panel(self) -> Locator:
        return self.widget.get_by_role("dialog")

    @property
    def launcher(self) -> Locator:
        return self.widget.locator(".launcher")

    @property
    def input(self) -> Locator:
        return self.panel.get_by_role("textbox", name="Сообщение")

    def messages(self, author: str | None = None) -> Locator:
        selector = f".msg--{author}" if author else ".msg"
        return self.widget.locator(selector)

    def stored(self, author: str | None = None) -> Locator:
        """Messages the server has stored (they carry its id)."""
        return self.messages(author).and_(self.widget.locator("[data-id]"))

    async def texts(self, author: str | None = None) -> list[str]:
        texts = await self.messages(author).locator(".text").all_inner_texts()
        return [text.strip() for text in texts]

    async def open_chat(self) -> None:
        await self.launcher.click()
        await expect(self.panel).to_be_visible()
        await expect(self.input).to_be_focused()

    async def say(self, text: str) -> None:
        await self.input.fill(text)
        await self.input.press("Enter")

    async def wait_for_answer(self, count: int = 1) -> None:
        """Until `count` AI answers are stored and shown (not streaming any more)."""
        await expect(self.stored("ai")).to_have_count(count)

    async def record(self) -> None:
        """Start noting what the widget shows in passing: typing lines and streamed text."""
        await self.page.evaluate(RECORDER)

    async def seen(self) -> dict[str, list[str]]:
        seen: dict[str, list[str]] = await self.page.evaluate("() => window.__widgetSeen")
        return seen

    async def reload(self) -> None:
        await self.page.reload()
        await expect(self.widget.locator(".launcher, .panel").filter(visible=True)).to_have_count(1)

    async def local_state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self.page.evaluate(
            """() => {
                const key = Object.keys(localStorage).find((k) => k.startsWith("tatartours-chat:"));
                return key ? JSON.parse(localStorage.getItem(key)) : {};
            }"""
        )
        return state


@dataclass
class Operator:
    """An operator logged in to the dashboard /support/ in their own browser context."""

    context: BrowserContext
    page: Page
    page_errors: list[str] = field(default_factory=list)
    # Every response of 400 or more the operator's pages got (a missing favicon, say).
    failed_requests: list[str] = field(default_factory=list)

    @property
    def queue(self) -> Locator:
        return self.page.locator("#queue-list")

    @property
    def transcript(self) -> Locator:
        return self.page.locator("#transcript")

    @property
    def composer(self) -> Locator:
        return self.page.locator("#composer-input")

    async def take(self, preview: str) -> None:
        """Take the waiting chat whose last visitor message is `preview`."""
        request = self.queue.locator("li").filter(has_text=preview)
        await request.get_by_role("button", name="Взять").click()
        await expect(self.transcript).to_contain_text(preview)

    async def reply(self, text: str) -> None:
        await self.composer.fill(text)
        await self.composer.press("Enter")
        await expect(self.transcript.locator(".message.operator").last).to_contain_text(text)

    async def end_chat(self) -> None:
        self.page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await self.page.get_by_role("button", name="Завершить").click()


class Site:
    """A running daphne and the browser contexts opened on it (closed on exit)."""

    def __init__(self, browser: Browser, server: ServerProcess, env: dict[str, str]) -> None:
        self.browser = browser
        self.server = server
        self.env = env
        self._visitors: list[Visitor] = []
        self._operators: list[Operator] = []
        self._restarted: list[ServerProcess] = []
        self._resources = ExitStack()

    def enter(self, resource: AbstractContextManager[T]) -> T:
        """Use `resource` (another website, ...) until the test ends."""
        return self._resources.enter_context(resource)

    def crash(self) -> None:
        """The server dies at once (SIGKILL): every socket is cut, nothing is said."""
        self.server.kill()

    def restart(self) -> None:
        """A new server process on the same port, as after a crash or a deploy."""
        self.server.kill()
        self.server = start_daphne(self.server.port, None, **self.env)
        self._restarted.append(self.server)

    def url(self, path: str = "/") -> str:
        return f"{self.server.http_url}{path}"

    async def new_context(
        self, viewport: dict[str, int] | None = None, **options: Any
    ) -> BrowserContext:
        return await self.browser.new_context(
            locale="ru-RU",
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            **options,
        )

    async def visitor(
        self, path: str | None = "/", viewport: dict[str, int] | None = None, **options: Any
    ) -> Visitor:
        context = await self.new_context(viewport, **options)
        page = await context.new_page()
        visitor = Visitor(context, page)
        page.on("dialog", lambda dialog: visitor.dialogs.append(dialog.message))
        page.on("pageerror", lambda error: visitor.page_errors.append(str(error)))
        self._visitors.append(visitor)
        if path is not None:
            await page.goto(self.url(path))
            await expect(visitor.launcher).to_be_visible()
        return visitor

    async def operator(self, username: str, password: str) -> Operator:
        """An operator who logs in through the login page and lands on the dashboard."""
        context = await self.new_context()
        page = await context.new_page()
        operator = Operator(context, page)
        page.on("pageerror", lambda error: operator.page_errors.append(str(error)))

        def note_failure(response: Response) -> None:
            if response.status >= 400:
                operator.failed_requests.append(f"{response.status} {response.url}")

        page.on("response", note_failure)
        self._operators.append(operator)
        await page.goto(self.url("/support/"))
        await page.locator("input[name=username]").fill(username)
        await page.locator("input[name=password]").fill(password)
        await page.locator("input[name=password]").press("Enter")
        await expect(page).to_have_url(self.url("/support/"))
        await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
        return operator

    async def __aenter__(self) -> Site:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        people: list[Visitor | Operator] = [*self._visitors, *self._operators]
        errors = [error for person in people for error in person.page_errors]
        for person in people:
            await person.context.close()
        for server in self._restarted:
            server.stop()
        self._resources.close()
        if exc_type is None:
            assert not errors, f"JavaScript errors on the page: {errors}"
