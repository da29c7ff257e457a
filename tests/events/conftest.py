"""What the stream tests share: a record of the errors the live server logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """What the server logs at ERROR or worse while the test runs (an unhandled
    exception in a socket is logged by uvicorn as "Exception in ASGI application")."""
    handler = _Collect()
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "storefront")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.records
    for logger in loggers:
        logger.removeHandler(handler)
