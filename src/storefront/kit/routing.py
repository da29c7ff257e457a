"""The API's route class: 415 to a JSON endpoint sent anything but JSON, no
path template claiming a path that another route names literally, and whether
the route writes (it depends on `writing`)."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Scope

from storefront.errors import UnsupportedMediaType


def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def writing() -> None:
    """A dependency that marks the routes depending on it as writing
    (`context.WriteSession`): their transaction is begun as a write."""


class JSONRoute(APIRoute):
    # Paths that other routes name literally (`/users/me` for `/users/{user_id}`): set by `claim_literal_paths`.
    shadowed: frozenset[str] = frozenset()

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        # Decided once, from the declared dependencies, never from the HTTP method.
        self.writes = _depends_on(self.dependant, writing)
        # The query parameters it takes, its dependencies' included (what a `Link` may repeat).
        self.query_names = frozenset(_query_names(self.dependant))
        # Every request is matched against the routes in turn: a path that
        # cannot be this route's is told by a string comparison, not a regex.
        self._literal = not self.param_convertors
        self._prefix = self.path.partition("{")[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = _route_path(scope)
        if path != self.path if self._literal else not path.startswith(self._prefix):
            return Match.NONE, {}
        if self.shadowed and scope["type"] == "http" and path in self.shadowed:
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


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_depends_on(sub, call) for sub in dependant.dependencies)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def claim_literal_paths(routers: Iterable[APIRouter]) -> None:
    """Leave each literal path to the routes that name it.

    `/users/me` is a path of its own, not a user id: without this, `DELETE
    /users/me` would reach `DELETE /users/{user_id}` and fail as a bad id (422)
    instead of being a method that `/users/me` does not have (405, with an
    `Allow` naming what it does have). `routers` are the domain routers, each
    carrying its whole prefix (`api_router`), so a route's own `path` is the
    full one; their routes are module singletons, included in each app once.
    """
    routes = [route for router in routers for route in router.routes]
    literal = {route.path for route in routes if isinstance(route, APIRoute) and not route.param_convertors}
    for route in routes:
        if isinstance(route, JSONRoute) and route.param_convertors:
            route.shadowed = frozenset(path for path in literal if route.path_regex.match(path))


_NOT_UTF8 = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error: the body is not UTF-8", "input": {}}

API_PREFIX = "/api/v1"


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Put `router`'s routes on `app` as they are.

    `app.include_router` (FastAPI 0.137 and later) keeps the router as a node
    and rebuilds every route's dependency graph for each app on its first
    request, about a quarter of a second per app with this API. Storefront's
    routers (`contract.api_router`) carry their whole prefix, responses and
    operation ids, and take no inclusion options, so their routes, built once
    at import, serve every app unchanged (docs/decisions.md).
    """
    app.router.routes.extend(router.routes)


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
