"""Webhook endpoints over HTTP, for admins: `/api/v1/webhooks`."""

from __future__ import annotations

from fastapi import Request, Response

from storefront.auth.dependencies import AdminUser
from storefront.context import ReadSession, ResolverDep, SettingsDep, WriteSession
from storefront.contract import api_router
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, with_page_headers
from storefront.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from storefront.webhooks import service
from storefront.webhooks.dependencies import EndpointDelivery, VisibleWebhook, WritableWebhook
from storefront.webhooks.schemas import (
    DeliveryDetail,
    DeliveryRead,
    SecretRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = api_router("/webhooks", tags=["webhooks"], responses=problems(401, 403))


@router.get("", response_model=list[WebhookRead], responses=problems(422))
async def list_webhooks(
    _: AdminUser, session: ReadSession, page: PageDep, request: Request, response: Response
) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    return with_page_headers(request, response, await service.list_endpoints(session, page))


@router.post("", status_code=201, response_model=WebhookCreated, responses=problems(422))
async def create_webhook(
    body: WebhookCreate,
    _: AdminUser,
    session: WriteSession,
    settings: SettingsDep,
    resolver: ResolverDep,
    response: Response,
) -> WebhookCreated:
    """Subscribe an endpoint; the answer holds its signing secret, shown this once."""
    created = await service.create(session, body, settings, resolver)
    response.headers["Location"] = f"/api/v1/webhooks/{created.endpoint.id}"
    read = WebhookRead.model_validate(created.endpoint)
    return WebhookCreated(**read.model_dump(), secret=created.secret)


@router.get("/{webhook_id}", response_model=WebhookRead, responses=problems(404, 422))
async def read_webhook(endpoint: VisibleWebhook) -> WebhookEndpoint:
    return endpoint


@router.patch("/{webhook_id}", response_model=WebhookRead, responses=problems(404, 422))
async def update_webhook(
    body: WebhookUpdate,
    endpoint: WritableWebhook,
    session: WriteSession,
    settings: SettingsDep,
    resolver: ResolverDep,
) -> WebhookEndpoint:
    """Change the fields sent; `active: true` re-enables it and resets its failure count."""
    return await service.update_endpoint(session, endpoint, body, settings, resolver)


@router.delete("/{webhook_id}", status_code=204, responses=problems(404, 422))
async def delete_webhook(endpoint: WritableWebhook, session: WriteSession) -> None:
    """Remove the endpoint with its deliveries; nothing more is sent to it."""
    await service.delete(session, endpoint)


@router.post("/{webhook_id}/rotate-secret", response_model=SecretRead, responses=problems(404, 422))
async def rotate_webhook_secret(endpoint: WritableWebhook, session: WriteSession, settings: SettingsDep) -> SecretRead:
    """A new signing secret; for 24 hours deliveries carry signatures by both."""
    secret, expires = await service.rotate_secret(session, endpoint, settings)
    return SecretRead(secret=secret, previous_secret_expires_at=expires)


@router.post("/{webhook_id}/test", status_code=202, response_model=DeliveryRead, responses=problems(404, 409, 422))
async def test_webhook(endpoint: WritableWebhook, session: WriteSession) -> WebhookDelivery:
    """Queue a `webhook.test` delivery to this endpoint only."""
    return await service.send_test(session, endpoint)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryRead], responses=problems(404, 422))
async def list_webhook_deliveries(
    endpoint: VisibleWebhook,
    session: ReadSession,
    page: PageDep,
    request: Request,
    response: Response,
    status: DeliveryStatus | None = None,
) -> list[WebhookDelivery]:
    """The endpoint's deliveries, newest first; `status` filters."""
    return with_page_headers(request, response, await service.list_deliveries(session, endpoint, status, page))


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryDetail, responses=problems(404, 422))
async def read_webhook_delivery(delivery: EndpointDelivery, session: ReadSession) -> DeliveryDetail:
    """One delivery, with the body it is sent and each attempt's outcome."""
    read = DeliveryRead.model_validate(delivery)
    log = await service.attempts(session, delivery)
    fields = {**read.model_dump(), "payload": delivery.payload, "attempt_log": log}
    return DeliveryDetail.model_validate(fields, from_attributes=True)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=DeliveryRead,
    responses=problems(404, 409, 422),
)
async def retry_webhook_delivery(
    endpoint: WritableWebhook, delivery: EndpointDelivery, session: WriteSession
) -> WebhookDelivery:
    """Send it again now, a delivered one too (with the same `webhook-id`)."""
    return await service.retry(session, endpoint, delivery)
