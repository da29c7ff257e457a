"""OpenTelemetry tracing, on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

FastAPI's built-in telemetry makes the spans (requests, WebSockets,
dependencies, endpoints); this module only gives it a tracer provider that
exports over OTLP/HTTP. Off, FastAPI's telemetry stays disabled and costs
nothing; the OpenTelemetry SDK is then never imported (the `otel` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storefront import __version__
from storefront.config import Settings

if TYPE_CHECKING:
    from fastapi.telemetry import TelemetryConfig
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _exporter(settings: Settings) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    endpoint = str(settings.otel_exporter_otlp_endpoint).rstrip("/")
    return OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")


def tracer_provider(settings: Settings) -> TracerProvider | None:
    if not settings.otel_exporter_otlp_endpoint:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": settings.otel_service_name, "service.version": __version__})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    return provider


def telemetry_config(provider: TracerProvider | None) -> TelemetryConfig:
    if provider is None:
        return OFF
    # Prometheus (/metrics) already measures requests; traces are what OTLP adds.
    return {"tracer_provider": provider, "tracing": True, "metrics": False, "logs": False}


def add_trace_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the current trace id, so a log line leads to its trace."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
    return event
