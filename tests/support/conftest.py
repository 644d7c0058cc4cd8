"""Operator personas for the support tests: logged-in dashboard sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from tests.factories import OperatorSocket, make_operator


@pytest.fixture
async def operator() -> AsyncIterator[Any]:
    """Open an operator's dashboard socket (a new operator unless `user` is given)."""
    sockets: list[OperatorSocket] = []

    async def open_operator(user: Any = None, **profile: Any) -> OperatorSocket:
        if user is None:
            user = await database_sync_to_async(make_operator)(**profile)
        socket = await OperatorSocket.connect_as(user)
        sockets.append(socket)
        return socket

    yield open_operator
    for socket in sockets:
        await socket.close()
