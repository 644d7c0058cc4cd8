"""Two small adjustments of daphne so the wire contract's close codes reach clients.

1. daphne closes a socket through autobahn's `sendClose`, which lets an
   application use only 1000 and 3000-4999, and raises for anything else
   (the consumer crashes, the client gets 1011). The contract closes with
   RFC 6455 codes a server may send: 1003 (a binary frame) and 1013 (try
   again later). Those are sent with autobahn's `sendCloseFrame`, which is
   what `sendClose` itself ends in and what daphne uses for 1011.
2. On a frame over `--websocket-max-message-size`, autobahn by default
   drops the TCP connection (`failByDrop`): the client sees 1006 and cannot
   tell why. With `failByDrop` off it sends the close frame 1009 first, and
   still never reads the frame whole: the size is checked on the frame
   header and while a message's fragments arrive.

`install()` runs once when the ASGI application is imported; under another
server (uvicorn, tests' in-process communicator) it does nothing. The real
daphne tests (tests/security/test_frames_through_daphne.py) pin both.
"""

from __future__ import annotations

from typing import Any

# RFC 6455 codes an endpoint may send that autobahn reserves for itself.
PROTOCOL_CLOSE_CODES = frozenset({1001, 1003, 1007, 1008, 1009, 1011, 1013})

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    try:
        from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    except ImportError:  # not running under daphne
        return

    original_close = WebSocketProtocol.serverClose

    def server_close(self: Any, code: int | None = None) -> None:
        if code in PROTOCOL_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original_close(self, code)

    original_init = WebSocketFactory.__init__

    def factory_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    WebSocketProtocol.serverClose = server_close
    WebSocketFactory.__init__ = factory_init
    _installed = True
