"""Paging (`skip`/`limit` with `X-Total-Count` and an RFC 8288 `Link`) and sorting."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Query, Request, Response
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storefront.kit.routing import JSONRoute

Sortable = ColumnElement[Any] | InstrumentedAttribute[Any]
T = TypeVar("T")
_PAGING = frozenset({"skip", "limit"})


@dataclass(frozen=True, slots=True)
class Page:
    """The page a caller asks for."""

    skip: int
    limit: int


@dataclass(frozen=True, slots=True)
class PageOf(Generic[T]):
    """One page of a list: its items, the total of the whole list, and the page asked for."""

    items: list[T]
    total: int
    page: Page


async def _page(
    skip: Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page (1..100).")] = 20,
) -> Page:
    return Page(skip=skip, limit=limit)


PageDep = Annotated[Page, Depends(_page)]


@dataclass(frozen=True, slots=True)
class Sort:
    field: str
    descending: bool


def sort_dependency(allowed: Sequence[str], default: str) -> Callable[..., Awaitable[Sort]]:
    """A `sort` query parameter restricted to `allowed` fields (`-field` for descending)."""
    pattern = "^-?(" + "|".join(allowed) + ")$"

    async def _sort(
        sort: Annotated[
            str,
            Query(
                pattern=pattern,
                max_length=1 + max(map(len, allowed)),
                description=f"One of {', '.join(allowed)}; prefix `-` for descending.",
            ),
        ] = default,
    ) -> Sort:
        return Sort(field=sort.lstrip("-"), descending=sort.startswith("-"))

    return _sort


def order_by(column: Sortable, sort: Sort, tiebreak: Sortable) -> list[ColumnElement[Any]]:
    """Sort order with a unique tiebreak so pages never repeat or skip rows."""
    primary = column.desc() if sort.descending else column.asc()
    return [primary, tiebreak.desc() if sort.descending else tiebreak.asc()]


async def fetch(session: AsyncSession, query: Select[T], page: Page) -> PageOf[T]:
    """`page` of what `query` selects, with the total count of the unpaged query.

    One round trip: each row carries the count of the whole filtered list
    (`count(*) OVER ()`, evaluated before LIMIT). Only a page past the end,
    which has no row to carry it, counts separately.
    """
    counted = query.add_columns(func.count().over()).offset(page.skip).limit(page.limit)
    rows = (await session.execute(counted)).all()
    if rows:
        return PageOf([row[0] for row in rows], int(rows[0][-1]), page)
    if page.skip == 0:
        return PageOf([], 0, page)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return PageOf([], int(total or 0), page)


def with_page_headers(request: Request, response: Response, result: PageOf[T]) -> list[T]:
    """The items of `result` for the response body; its `X-Total-Count` and `Link` go on `response`."""
    set_page_headers(request, response, result.page, result.total)
    return result.items


def set_page_headers(request: Request, response: Response, page: Page, total: int) -> None:
    response.headers["X-Total-Count"] = str(total)
    links: list[str] = []
    # The request's own URL with `skip` and `limit` moved to the end, as
    # `URL.include_query_params` would, but with the query parsed once.
    url = request.url
    # Only the parameters the route takes (its filters and sort): anything else
    # a client appended would be repeated in every link, the header growing without bound.
    route = request.scope.get("route")
    declared = route.query_names if isinstance(route, JSONRoute) else None
    pairs = parse_qsl(url.query, keep_blank_values=True)
    kept = urlencode([(k, v) for k, v in pairs if k not in _PAGING and (declared is None or k in declared)])
    base = f"{url.replace(query='')}?{kept + '&' if kept else ''}"

    def link(skip: int, rel: str) -> None:
        links.append(f'<{base}skip={skip}&limit={page.limit}>; rel="{rel}"')

    last = max(0, ((total - 1) // page.limit) * page.limit) if total else 0
    link(0, "first")
    if page.skip > 0:
        link(max(0, min(page.skip - page.limit, last)), "prev")
    if page.skip + page.limit < total:
        link(page.skip + page.limit, "next")
    link(last, "last")
    response.headers["Link"] = ", ".join(links)
