"""OpenTelemetry: spans by route when an OTLP endpoint is set, and trace ids in logs."""

from __future__ import annotations

import json

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from storefront import tracing
from storefront.config import Settings
from storefront.main import create_app
from tests.factories import Factory


async def test_requests_become_spans_and_logs_carry_the_trace_id(
    settings: Settings, database: object, factory: Factory, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "_exporter", lambda _settings: exporter)
    traced = settings.model_copy(
        update={"otel_exporter_otlp_endpoint": "http://127.0.0.1:4318", "log_format": "json", "log_level": "INFO"}
    )
    product = await factory.product()
    app = create_app(traced)
    capsys.readouterr()
    async with LifespanManager(app) as manager:
        client = AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test")
        async with client:
            assert (await client.get(f"/api/v1/products/{product.id}")).status_code == 200
        app.state.tracer_provider.force_flush()

    spans = exporter.get_finished_spans()
    routes = {span.attributes.get("http.route") for span in spans if span.attributes}
    assert "/api/v1/products/{product_id}" in routes
    server_span = next(s for s in spans if s.attributes and s.attributes.get("http.route"))
    trace_id = format(server_span.context.trace_id, "032x")
    access = [json.loads(line) for line in capsys.readouterr().err.splitlines() if '"event": "request"' in line]
    assert [line["trace_id"] for line in access] == [trace_id]


async def test_without_an_endpoint_tracing_is_off(client: AsyncClient) -> None:
    assert tracing.tracer_provider(Settings(otel_exporter_otlp_endpoint=None)) is None
    assert tracing.telemetry_config(None) == {"tracing": False, "metrics": False, "logs": False}
    assert (await client.get("/health")).status_code == 200
