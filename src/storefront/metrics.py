"""Prometheus metrics: requests by route template (never raw path), latency,
in-flight requests, the job backlog, open event streams and the DB pool.

With several worker processes, set `PROMETHEUS_MULTIPROC_DIR` to an empty
directory shared by them; `/metrics` then aggregates every process.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from starlette.routing import Mount, Route, WebSocketRoute

REQUESTS = Counter("storefront_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "storefront_http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of the response).",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_FLIGHT = Gauge("storefront_http_requests_in_flight", "HTTP requests being answered.", multiprocess_mode="livesum")
EMAILS = Gauge(
    "storefront_emails", "Emails in the outbox by state (backlog: queued).", ["status"], multiprocess_mode="max"
)
WEBHOOKS = Gauge(
    "storefront_webhook_deliveries",
    "Webhook deliveries by state (backlog: pending; due: pending and due now).",
    ["status"],
    multiprocess_mode="max",
)
WEBHOOK_DELIVERIES = Counter(
    "storefront_webhook_attempts_total",
    "Webhook delivery attempts by result: delivered, retrying, failed (the last attempt) or superseded.",
    ["result"],
)
WEBHOOK_DURATION = Histogram(
    "storefront_webhook_attempt_duration_seconds",
    "Time of one webhook delivery attempt, to the answer (or the timeout).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
OPEN_STREAMS = Gauge(
    "storefront_event_streams_open", "Open WebSocket and SSE event streams.", multiprocess_mode="livesum"
)
DB_POOL_IN_USE = Gauge(
    "storefront_db_connections_in_use", "Database connections checked out.", multiprocess_mode="livesum"
)
UNMATCHED = "unmatched"


def route_label(scope: MutableMapping[str, Any]) -> str:
    """The route template (`/api/v1/products/{product_id}`), a mount prefix, or "unmatched"."""
    route = scope.get("route")
    if isinstance(route, (Route, WebSocketRoute, Mount)):
        return route.path
    root = scope.get("root_path", "")
    return root if root else UNMATCHED


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST
