"""Pure ASGI middleware: no BaseHTTPMiddleware, which costs throughput."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storefront import metrics
from storefront.errors import internal_error_response, problem_response
from storefront.log import get_logger
from storefront.request_context import request_id_var, user_id_var

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
access_log = get_logger("storefront.access")
error_log = get_logger("storefront.error")


_ID_PREFIX = os.urandom(8).hex()
_id_counter = itertools.count(1)


def _new_request_id() -> str:
    """Unique without a system call per request: a random per-process prefix and a counter."""
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


class RequestContextMiddleware:
    """Request id in and out, `Server-Timing`, one log line per request, and a
    problem+json 500 (with the request id) for anything unexpected."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        sent = Headers(scope=scope).get("x-request-id")
        request_id = sent if sent and _SANE_REQUEST_ID.match(sent) else _new_request_id()
        rid_token = request_id_var.set(request_id)
        uid_token = user_id_var.set(None)
        started = time.perf_counter()
        status = 500

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
            await send(message)

        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send_with_context(message)

        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if response_started:
                raise
            await internal_error_response()(scope, receive, send_with_context)
        finally:
            elapsed = time.perf_counter() - started
            route = metrics.route_label(scope)
            metrics.IN_FLIGHT.dec()
            metrics.observe(scope["method"], route, status, elapsed)
            access_log.info(
                "request",
                method=scope["method"],
                route=route,
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            request_id_var.reset(rid_token)
            user_id_var.reset(uid_token)


class BodyLimitMiddleware:
    """413 for bodies over the limit, counted while streaming: never read whole.

    Uploads (`multipart/form-data`) may be as large as `upload_bytes`; every
    other body as large as `max_bytes`. A declared `Content-Length` over the
    limit is refused before a byte is read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        is_upload = headers.get("content-type", "").lower().startswith("multipart/form-data")
        limit = self.upload_bytes if is_upload else self.max_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException raised while FastAPI reads the body reaches
                    # the app's handler, which renders problem+json.
                    raise HTTPException(413, "The request body is too large.")
            return message

        await self.app(scope, limited_receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, "payload_too_large", "The request body is too large.")
        await response(scope, receive, send)


API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI, ReDoc and the admin run inline bootstrap scripts; everything they
# load comes from this origin (ReDoc's logo from its CDN is refused, so the
# browser never leaves the app), and ReDoc's search runs in a blob: worker.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
PAGE_PREFIXES = ("/docs", "/redoc", "/admin", "/static/")
# Answers with personal data or secrets (tokens, addresses, orders, discount
# codes not yet handed out) are never kept by a browser or a shared cache,
# whatever the route says.
PRIVATE_PREFIXES = (
    "/api/v1/auth",
    "/api/v1/users",
    "/api/v1/orders",
    "/api/v1/discounts",
    "/api/v1/carts",
    "/api/v1/payments",
    "/api/v1/notifications",
    "/api/v1/events",
    "/api/v1/webhooks",
    "/api/v1/audit-log",
    "/admin",
)


class SecurityHeadersMiddleware:
    """`nosniff`, a strict referrer policy, no framing, a CSP, `no-store` on
    private answers, and HSTS when asked."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        csp = PAGE_CSP if path.startswith(PAGE_PREFIXES) else API_CSP
        private = path.startswith(PRIVATE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", csp)
                if private:
                    headers["Cache-Control"] = "no-store"
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with a refused preflight answered as problem+json like every other error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode()  # "Disallowed CORS origin, method"
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        detail = f"{refused}: this cross-origin request is not allowed."
        return problem_response(400, "cors_refused", detail, headers=headers)


PROBE_PATHS = frozenset({"/health", "/ready"})


class TrustedHostsMiddleware:
    """403 `untrusted_host` for an HTTP or WebSocket request whose `Host` is not
    one of `hosts` (`*.example.com` matches its subdomains).

    Links and redirects are built from `Host`; refusing other hosts keeps a
    forged header from pointing them (or a shared cache's copy) at another site.
    The probes (`/health`, `/ready`) answer any host: orchestrators call them by
    the pod's address, and their answers name no host.
    """

    def __init__(self, app: ASGIApp, hosts: Sequence[str]) -> None:
        self.app = app
        self.names = frozenset(host for host in hosts if not host.startswith("*."))
        self.suffixes = tuple(host[1:] for host in hosts if host.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or scope["path"] in PROBE_PATHS
            or self._trusted(Headers(scope=scope).get("host", ""))
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008})
            return
        response = problem_response(403, "untrusted_host", "This host name is not served here.")
        await response(scope, receive, send)

    def _trusted(self, host_header: str) -> bool:
        host = _host_name(host_header.lower())
        return host in self.names or host.endswith(self.suffixes)


def _host_name(host: str) -> str:
    """The host of a `Host` header, without its port: `[::1]:8000` is `[::1]`, `shop.example.:80` is `shop.example`."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.partition(":")[0].rstrip(".")
