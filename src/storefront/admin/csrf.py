"""CSRF protection for the admin's forms.

Three layers: the admin session cookie is `SameSite=Strict` (no other site's
page makes the browser send it); every unsafe request under `/admin` whose
`Origin` (or, without one, `Referer`) names another origin is refused (403), as
OWASP's "verifying origin with standard headers" has it; and the desk's own
forms carry a token bound to the admin session (`token`, `refusal`).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_KEY = "storefront_csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def token(request: Request) -> str:
    """The admin session's form token, made on first use."""
    value = request.session.get(TOKEN_KEY)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(32)
        request.session[TOKEN_KEY] = value
    return value


def refusal(request: Request, sent: object) -> Response | None:
    """403 unless `sent` is the admin session's form token; None when it is."""
    expected = request.session.get(TOKEN_KEY)
    if not isinstance(expected, str) or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        return PlainTextResponse("The form is stale or was not sent from this admin: reload the page.", 403)
    return None


def _origin(value: str) -> tuple[str, str]:
    parts = urlsplit(value)
    return parts.scheme, parts.netloc


class SameOrigin:
    """Pure ASGI, around the admin app: an unsafe request from another origin gets 403.

    Its pages say `Referrer-Policy: same-origin` (the rest of the app says
    `no-referrer`), so that the browser names this origin on the admin's own form
    posts and `null` on any other site's.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Referrer-Policy"] = "same-origin"
            await send(message)

        if scope["method"] in UNSAFE:
            headers = Headers(scope=scope)
            claimed = headers.get("origin") or headers.get("referer")
            host = headers.get("host", "")
            if claimed is not None and (claimed == "null" or _origin(claimed)[1] != host):
                response = PlainTextResponse("Cross-origin form submission refused.", status_code=403)
                await response(scope, receive, send_policy)
                return
        await self.app(scope, receive, send_policy)
