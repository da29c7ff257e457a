"""The API's route class: 415 to a JSON endpoint sent anything but JSON, and no
path template claiming a path that another route names literally."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from storefront.errors import UnsupportedMediaType


def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class JSONRoute(APIRoute):
    # Paths that other routes name literally (`/users/me` for `/users/{user_id}`): set by `claim_literal_paths`.
    shadowed: frozenset[str] = frozenset()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.shadowed and scope["type"] == "http" and _route_path(scope) in self.shadowed:
            return Match.NONE, {}
        return super().matches(scope)

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


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def claim_literal_paths(routes: Sequence[BaseRoute]) -> None:
    """Leave each literal path to the routes that name it.

    `/users/me` is a path of its own, not a user id: without this, `DELETE
    /users/me` would reach `DELETE /users/{user_id}` and fail as a bad id (422)
    instead of being a method that `/users/me` does not have (405, with an
    `Allow` naming what it does have). `routes` are the app's, included routers
    and all; each router is included once (its routes are module singletons).
    """
    contexts = list(iter_route_contexts(routes))
    literal = {
        context.path
        for context in contexts
        if isinstance(context.original_route, APIRoute) and context.path and not context.param_convertors
    }
    for context in contexts:
        route = context.original_route
        if isinstance(route, JSONRoute) and context.param_convertors:
            route.shadowed = frozenset(path for path in literal if context.path_regex.match(path))


_NOT_UTF8 = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error: the body is not UTF-8", "input": {}}

API_PREFIX = "/api/v1"


def api_router(prefix: str, **kwargs: Any) -> APIRouter:
    """A domain router under `/api/v1` whose JSON endpoints refuse other bodies.

    The full prefix is given here, not at inclusion, so each route's `path`
    is its whole template (what logs and metrics label requests by).
    """
    return APIRouter(prefix=API_PREFIX + prefix, route_class=JSONRoute, **kwargs)
