"""Structured logging: JSON lines in production, readable lines in a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from storefront.request_context import request_id_var, user_id_var
from storefront.tracing import add_trace_id

_SECRET_KEYS = frozenset({"password", "token", "access_token", "refresh_token", "authorization", "secret", "key"})


def _add_context(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    if (request_id := request_id_var.get()) is not None:
        event.setdefault("request_id", request_id)
    if (user_id := user_id_var.get()) is not None:
        event.setdefault("user_id", user_id)
    return event


def _redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in event.keys() & _SECRET_KEYS:
        event[key] = "***"
    return event


class _Stderr:
    """Whatever `sys.stderr` is at the time of writing, not when logging was configured
    (test capture, reloaders and daemonising tools replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_STDERR = _Stderr()


def configure_logging(level: str = "INFO", fmt: str = "console", *, trace_ids: bool = False) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            # Tracebacks without local variables: those hold passwords, tokens and keys.
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
        )
    )
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_context,
        *([add_trace_id] if trace_ids else []),
        _redact,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info if fmt == "json" else structlog.processors.StackInfoRenderer(),
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(_STDERR),  # type: ignore[arg-type]
        # Not cached: module-level loggers must follow a later configure_logging()
        # (another level or format), which a cached logger would ignore.
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library; keep them at the same level.
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request once


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
