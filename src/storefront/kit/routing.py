"""A route class that answers 415 to a JSON endpoint sent anything but JSON."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from storefront.errors import UnsupportedMediaType


def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class JSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        body = self.body_field
        if body is None or isinstance(body.field_info, Form):
            return handler

        async def json_only(request: Request) -> Response:
            content_type = request.headers.get("content-type")
            has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
            if has_body and (content_type is None or not _is_json(content_type)):
                raise UnsupportedMediaType("This endpoint takes a JSON body (Content-Type: application/json).")
            try:
                return await handler(request)
            except HTTPException as exc:
                # FastAPI answers a body that is not UTF-8 with a bare 400; it is
                # malformed JSON (RFC 8259), so it gets the same 422 as any other.
                if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
                    raise RequestValidationError([_NOT_UTF8]) from exc
                raise

        return json_only


_NOT_UTF8 = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error: the body is not UTF-8", "input": {}}

API_PREFIX = "/api/v1"


def api_router(prefix: str, **kwargs: Any) -> APIRouter:
    """A domain router under `/api/v1` whose JSON endpoints refuse other bodies.

    The full prefix is given here, not at inclusion, so each route's `path`
    is its whole template (what logs and metrics label requests by).
    """
    return APIRouter(prefix=API_PREFIX + prefix, route_class=JSONRoute, **kwargs)
