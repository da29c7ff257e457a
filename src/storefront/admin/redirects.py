"""Redirects the admin sends name a path, never a host.

sqladmin builds its redirect URLs from the request's `Host` header; a forged
one (`Host: evil.example`) would send the browser to another site. A path keeps
the browser on the origin it is already on, whatever the header said.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def relative(location: str) -> str:
    """`location` without its scheme and host; a path that starts with `//` would name a host, so it cannot."""
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location
    path = "/" + parts.path.lstrip("/")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


class RelativeRedirects:
    """Pure ASGI: rewrites the `Location` of every response to a path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if location := headers.get("location"):
                    headers["Location"] = relative(location)
            await send(message)

        await self.app(scope, receive, send_relative)


async def to_admin_index(request: Request) -> RedirectResponse:
    """`/admin` to `/admin/`, which the router would otherwise answer with an absolute URL."""
    return RedirectResponse(request.url.path + "/", status_code=307)
