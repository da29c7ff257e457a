"""Webhook endpoints and their deliveries, in and out."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import ConfigDict, Field, field_validator, model_validator

from storefront.kit.schemas import Count, Id, InputModel, PatchModel, ReadModel
from storefront.models import DeliveryStatus
from storefront.models.webhook import ERROR_LENGTH, EXCERPT_LENGTH, URL_LENGTH


class EventType(StrEnum):
    """What an endpoint may subscribe to: every event of the log, or `*` for all of them."""

    all = "*"
    order_created = "order.created"
    order_status_changed = "order.status_changed"
    payment_succeeded = "payment.succeeded"
    payment_failed = "payment.failed"
    refund_created = "refund.created"
    refund_succeeded = "refund.succeeded"
    refund_failed = "refund.failed"
    product_created = "product.created"
    product_updated = "product.updated"
    product_archived = "product.archived"
    stock_low = "stock.low"


StatusCode = Annotated[int, Field(ge=100, le=599)]
ErrorText = Annotated[str, Field(max_length=ERROR_LENGTH)]

# Sent by `POST /webhooks/{id}/test` to that endpoint only, whatever it subscribes to.
TEST_EVENT: Final = "webhook.test"
MAX_ATTEMPTS_LISTED: Final = 100

Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=URL_LENGTH,
        pattern=r"^https?://[^\s]+$",
        examples=["https://erp.example.com/hooks/storefront"],
        description="`https://`, resolving to public addresses only (422 `unsafe_url`).",
    ),
]
Events = Annotated[
    list[EventType],
    Field(
        min_length=1,
        max_length=len(EventType),
        examples=[["order.created", "order.status_changed"]],
        description='Event types, each once; `["*"]` for every event.',
    ),
]
WebhookDescription = Annotated[str, Field(max_length=500, examples=["Our ERP"])]


def _distinct(events: list[EventType] | None) -> list[EventType] | None:
    if events is None:
        return None
    if len(set(events)) != len(events):
        raise ValueError("each event type may be named once")
    return [EventType.all] if EventType.all in events else events


class WebhookCreate(InputModel):
    url: Url
    events: Events
    description: WebhookDescription | None = None

    _events = field_validator("events")(_distinct)


class WebhookUpdate(PatchModel):
    """The fields sent change; `active: true` re-enables a disabled endpoint and resets its failure count."""

    not_nullable = frozenset({"url", "events", "active"})

    url: Url | None = None
    events: Events | None = None
    description: WebhookDescription | None = None
    active: Annotated[bool, Field(strict=True)] | None = None

    _events = field_validator("events")(_distinct)


class WebhookRead(ReadModel):
    id: Id
    url: str = Field(max_length=URL_LENGTH)
    events: list[Annotated[str, Field(max_length=40)]] = Field(max_length=len(EventType))
    description: str | None = Field(max_length=500)
    active: bool
    consecutive_failures: Count = Field(description="Failed attempts in a row; reset by a success.")
    disabled_reason: str | None = Field(
        max_length=500, description="Why the endpoint was disabled, when it was by failures."
    )
    previous_secret_expires_at: datetime | None = Field(
        description="Until then, deliveries also carry a signature by the secret before the last rotation."
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(max_length=100, description="The signing secret (`whsec_...`): shown in this response only.")


class SecretRead(ReadModel):
    secret: str = Field(max_length=100, description="The new signing secret: shown in this response only.")
    previous_secret_expires_at: datetime | None = Field(
        description="The old secret signs beside it until then; null when it could not be read (SECRET_KEY changed)."
    )


class DeliveryRead(ReadModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: Id
    webhook_id: str = Field(
        max_length=40, validation_alias="message_id", description="The `webhook-id` header: the same on every attempt."
    )
    event_id: Id | None = Field(description="The event in the log; null for a `webhook.test`.")
    type: str = Field(max_length=40)
    status: DeliveryStatus
    attempts: Count
    last_status_code: StatusCode | None
    last_error: ErrorText | None
    duration_ms: Count | None = Field(description="How long the last attempt took.")
    next_attempt_at: datetime | None = Field(description="When it is sent next; null once delivered or failed.")
    created_at: datetime
    delivered_at: datetime | None

    @model_validator(mode="after")
    def _settled_is_not_due(self) -> DeliveryRead:
        if self.status is not DeliveryStatus.pending:
            self.next_attempt_at = None
        return self


class AttemptRead(ReadModel):
    number: Count
    status_code: StatusCode | None
    error: ErrorText | None
    response_excerpt: str | None = Field(max_length=EXCERPT_LENGTH, description="The start of the response body.")
    duration_ms: Count
    created_at: datetime


class DeliveryDetail(DeliveryRead):
    payload: dict[str, Any] = Field(description="The body sent: `type`, `timestamp` and `data`.")
    attempt_log: list[AttemptRead] = Field(
        max_length=MAX_ATTEMPTS_LISTED, description="Its attempts, the latest 100, oldest first."
    )

    @field_validator("payload", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value
