"""Webhook endpoints of other systems, and the deliveries of events to them.

A delivery is written in the same transaction as the event that causes it
(`UnitOfWork.commit`), so a committed change is never left undelivered and a
rolled-back one sends nothing. The worker leases deliveries like emails.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storefront.db import Base, UTCDateTime, utcnow

URL_LENGTH = 2048
ERROR_LENGTH = 1000  # an attempt's error, as recorded
EXCERPT_LENGTH = 1024  # characters of an answer kept


class DeliveryStatus(StrEnum):
    pending = "pending"  # to be sent (again) at `next_attempt_at`
    delivered = "delivered"  # the endpoint answered 2xx
    failed = "failed"  # every attempt failed; a manual retry sends it again


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    description: Mapped[str | None] = mapped_column(String(500))
    # Event types, or ["*"] for every one.
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The signing secrets, encrypted (`webhooks.secrets`): a database dump alone does not reveal them.
    secret: Mapped[str] = mapped_column(Text)
    # The secret before the last rotation, signing beside the new one until `previous_secret_expires_at`.
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed attempts in a row, across deliveries; `WEBHOOK_DISABLE_AFTER` of them disable the endpoint.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        # Never the secrets: a repr ends up in logs and tracebacks.
        return f"WebhookEndpoint(id={self.id!r}, url={self.url!r}, active={self.active!r})"


class WebhookDelivery(Base):
    """One event for one endpoint: the exact body it is sent, and how its sending stands."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # `webhook-id`: the same on every attempt, so receivers can drop repeats.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    # The event in the log (None for a `webhook.test`); the log may be pruned first, so no foreign key.
    event_id: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, signed as it is
    status: Mapped[DeliveryStatus] = mapped_column(String(20), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookAttempt(Base):
    """One try at sending a delivery: what came back and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # The start of the response body, read up to `RESPONSE_EXCERPT` bytes.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
