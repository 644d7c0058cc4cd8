"""daphne as this project runs it: `python -m tatartours.daphne_server` takes daphne's arguments.

Two things the wire contract needs that daphne 4.2 does not do by itself:

1. daphne closes a socket through autobahn's `sendClose`, which lets an
   application use only 1000 and 3000-4999 and raises for anything else
   (the consumer crashes, the client gets 1011; daphne issue 374). The
   contract closes with RFC 6455 codes a server may send: 1003 (a binary
   frame) and 1013 (try again later). Those are sent with autobahn's
   `sendCloseFrame`, which is what `sendClose` itself ends in and what
   daphne uses for 1011.
2. On a frame over `--websocket-max-message-size`, autobahn by default drops
   the TCP connection (`failByDrop`): the client sees 1006 and cannot tell
   why. With `failByDrop` off it sends the close frame 1009 first, and still
   never reads the frame whole: the size is checked on the frame header and
   while a message's fragments arrive.

Both through public extension points, nothing patched: daphne's command line
builds its server from `CommandLineInterface.server_class`; the server calls
its `ready_callable` once its WebSocket factory exists and before the reactor
runs; there the factory gets our protocol class (Twisted's `Factory.protocol`)
and the option (autobahn's `setProtocolOptions`). Every command that serves
the site runs this module (Makefile, Dockerfile, docker-compose.yml, the
tests' and the benchmark's servers); the real daphne tests
(tests/security/test_frames_through_daphne.py) pin both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol

# RFC 6455 codes an endpoint may send that autobahn reserves for itself.
PROTOCOL_CLOSE_CODES = frozenset({1001, 1003, 1007, 1008, 1009, 1011, 1013})


class ContractWebSocketProtocol(WebSocketProtocol):
    def serverClose(self, code: int | None = None) -> None:
        if code in PROTOCOL_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code)


class ContractServer(Server):
    def __init__(self, *args: Any, ready_callable: Callable[[], None] | None = None, **kwargs: Any):
        def ready() -> None:
            self.ws_factory.protocol = ContractWebSocketProtocol
            # autobahn's setProtocolOptions resets allowNullOrigin to False unless
            # given; keep daphne's True (Channels' origin validator answers a
            # `null` Origin with the 403 the contract wants).
            self.ws_factory.setProtocolOptions(
                failByDrop=False, allowNullOrigin=self.ws_factory.allowNullOrigin
            )
            if ready_callable is not None:
                ready_callable()

        super().__init__(*args, ready_callable=ready, **kwargs)


class ContractCommandLineInterface(CommandLineInterface):
    server_class = ContractServer


if __name__ == "__main__":
    ContractCommandLineInterface.entrypoint()
