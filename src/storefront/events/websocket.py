"""WebSocket messages are text JSON of at most 64 KiB; anything else closes the
socket with the code that says why (1003 binary, 1009 too big, 1007 bad JSON).

`storefront serve` gives uvicorn the same cap (`ws_max_size`), so the server
never buffers a bigger message; the check here keeps the app safe behind any
server.
"""

from __future__ import annotations

import contextlib
import json

from starlette import status
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

MAX_MESSAGE_BYTES = 64 * 1024


class CloseSocket(Exception):
    """The socket is to close, with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def receive_text(websocket: WebSocket) -> str:
    """The next text message; CloseSocket for a binary or too big one."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", status.WS_1000_NORMAL_CLOSURE), message.get("reason"))
    text: str | None = message.get("text")
    if text is None:
        raise CloseSocket(status.WS_1003_UNSUPPORTED_DATA, "text messages only")
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode()) > MAX_MESSAGE_BYTES:
        raise CloseSocket(status.WS_1009_MESSAGE_TOO_BIG, "message over 64 KiB")
    return text


def parse_json(text: str) -> object:
    """A message's JSON value; CloseSocket for invalid or too deeply nested JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise CloseSocket(status.WS_1007_INVALID_FRAME_PAYLOAD_DATA, "invalid JSON") from None


async def close(websocket: WebSocket, code: int, reason: str = "") -> None:
    """Close the socket, unless it is closed already (the client left first)."""
    with contextlib.suppress(WebSocketDisconnect, WebSocketDisconnected):
        await websocket.close(code=code, reason=reason)
