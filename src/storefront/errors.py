"""One error hierarchy, rendered as RFC 9457 problem details by one handler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from storefront.request_context import request_id_var

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """An expected failure: its status, stable code and a human detail."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.default_detail()
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(self.detail)

    def default_detail(self) -> str:
        return HTTPStatus(self.status_code).phrase


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Unprocessable(AppError):
    status_code = 422
    code = "unprocessable"


class NotAuthenticated(AppError):
    status_code = 401
    code = "not_authenticated"

    def __init__(self, detail: str | None = None, *, token_sent: bool = False, **extra: Any) -> None:
        challenge = 'Bearer error="invalid_token"' if token_sent else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge}, **extra)


class InvalidToken(NotAuthenticated):
    code = "invalid_token"

    def __init__(self, detail: str = "The access token is invalid or has expired.") -> None:
        super().__init__(detail, token_sent=True)


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Incorrect username or password.")


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"

    def default_detail(self) -> str:
        return "You are not allowed to do this."


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"

    def default_detail(self) -> str:
        return "The resource has changed since you last read it (If-Match)."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_var.get(),
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


# A body can hold thousands of wrong fields (80,000 unknown keys fit in 1 MiB):
# the answer names the first few, each part of a location cut short, and counts them all.
MAX_LISTED_ERRORS = 50
MAX_LOCATION_PART = 100
MAX_LOCATION_DEPTH = 16
MAX_TEXT = 200  # the type; a message may take five times this


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [_short(part) for part in list(e.get("loc", ()))[:MAX_LOCATION_DEPTH]],
            "msg": str(e.get("msg", ""))[: MAX_TEXT * 5],
            "type": str(e.get("type", ""))[:MAX_TEXT],
        }
        for e in list(errors)[:MAX_LISTED_ERRORS]
    ]


def _short(part: Any) -> Any:
    if isinstance(part, str) and len(part) > MAX_LOCATION_PART:
        return part[:MAX_LOCATION_PART] + "…"
    return part


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(exc.status_code, exc.code, exc.detail, headers=exc.headers, extra=exc.extra)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = exc.errors()
    detail = "The request is not valid; see `errors`."
    if len(found) > MAX_LISTED_ERRORS:
        detail = f"The request is not valid: {len(found)} errors, the first {MAX_LISTED_ERRORS} in `errors`."
    extra = {"errors": _validation_errors(found), "error_count": len(found)}
    return problem_response(422, "validation_error", detail, extra=extra)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str | None:
    """Every method the path answers to (RFC 9110), not only those of the first route that matched it."""
    routes = request.app.router.routes

    def answers(method: str) -> bool:
        probe = {**request.scope, "method": method}
        return any(route.matches(probe)[0] is Match.FULL for route in routes)

    return ", ".join(filter(answers, _METHODS)) or None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    return problem_response(exc.status_code, code, detail, headers=headers)


# PostgreSQL refuses text it cannot store (a NUL character) with SQLSTATE 22021;
# that is the client's input, not a server failure.
_UNSTORABLE_TEXT = "22021"


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if getattr(exc.orig, "sqlstate", None) == _UNSTORABLE_TEXT:
        return problem_response(422, "invalid_text", "Text in the request contains a NUL character.")
    raise exc


def internal_error_response() -> JSONResponse:
    return problem_response(500, "internal_error", "An unexpected error occurred; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
