"""Waiting for something the code under test does in its own time (a row, a key, a node)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait until `await check()` holds (e.g. a row the server writes); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout}s: {check}")
        await asyncio.sleep(0.05)
