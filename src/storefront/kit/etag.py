"""Conditional requests (RFC 9110): ETag, If-None-Match and If-Match."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError

from storefront.errors import PreconditionFailed

# The longest If-Match / If-None-Match looked at (the document's `maxLength`): a
# list of a few dozen ETags. A longer one is refused as a bad header (422).
MAX_CONDITION = 1024


def too_long(header: str | None) -> bool:
    return header is not None and len(header) > MAX_CONDITION


def _condition(request: Request, name: str) -> str | None:
    header = request.headers.get(name)
    if too_long(header):
        message = f"String should have at most {MAX_CONDITION} characters"
        raise RequestValidationError([{"type": "string_too_long", "loc": ("header", name), "msg": message}])
    return header


def make_etag(kind: str, ident: int, version: int) -> str:
    return f'"{kind}-{ident}-v{version}"'


def _tags(header: str) -> set[str]:
    # Weak comparison for If-None-Match: W/"x" matches "x".
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def matches_if_none_match(header: str | None, etag: str) -> bool:
    """True when an `If-None-Match` header names `etag` (weakly) or is `*`."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or etag in tags


def not_modified(request: Request, etag: str) -> bool:
    """True when the client's cached copy (If-None-Match) is still current."""
    return matches_if_none_match(_condition(request, "if-none-match"), etag)


def unless_modified(request: Request, response: Response, etag: str) -> Response | None:
    """A 304 when the client's copy is current; otherwise None, with the ETag set
    on the response the route is about to return."""
    if not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return None


def require_match(request: Request, etag: str) -> None:
    """Refuse a write (412) when the client's If-Match no longer matches."""
    header = _condition(request, "if-match")
    if header is None:
        return
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    if "*" not in tags and etag not in tags:
        raise PreconditionFailed()
