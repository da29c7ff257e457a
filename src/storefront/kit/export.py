"""Streamed exports: CSV or JSON Lines, one row at a time from the database.

The stream opens its own read session (the request's session is closed by the
time the body is sent) and fetches in batches, so memory stays flat however
many rows there are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

ExportFormat = Literal["csv", "jsonl"]
# A cell starting with one of these is a formula to a spreadsheet (CSV
# injection, OWASP): people name their products and themselves, and staff open
# the file. Every text cell of every CSV export is neutralised by `safe_cell`.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}


Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def _rows(sessions: Sessions, query: Select[Any]) -> AsyncIterator[Any]:
    async with sessions() as session:
        result = await session.stream_scalars(query.execution_options(yield_per=BATCH))
        async for row in result:
            yield row


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: text that would start a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def _csv_lines(
    rows: AsyncIterator[Any], header: Sequence[str], to_row: Callable[[Any], Sequence[Any]]
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    async for row in rows:
        writer.writerow([safe_cell(cell) for cell in to_row(row)])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _jsonl_lines(rows: AsyncIterator[Any], schema: type[BaseModel]) -> AsyncIterator[str]:
    chunk: list[str] = []
    async for row in rows:
        chunk.append(schema.model_validate(row).model_dump_json())
        if len(chunk) >= BATCH:
            yield "\n".join(chunk) + "\n"
            chunk.clear()
    if chunk:
        yield "\n".join(chunk) + "\n"


def export_response(
    sessions: Sessions,
    query: Select[Any],
    *,
    name: str,
    fmt: ExportFormat,
    schema: type[BaseModel],
    header: Sequence[str],
    to_row: Callable[[Any], Sequence[Any]],
) -> StreamingResponse:
    rows = _rows(sessions, query)
    body = _csv_lines(rows, header, to_row) if fmt == "csv" else _jsonl_lines(rows, schema)
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"},
    )
