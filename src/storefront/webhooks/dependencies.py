"""Load-and-check dependencies for webhook ids in paths: admins only, so a
refused caller learns nothing about which endpoints exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy import select

from storefront.auth.dependencies import AdminUser
from storefront.context import SessionDep, WriteSession
from storefront.kit.schemas import MAX_ID
from storefront.models import WebhookDelivery, WebhookEndpoint
from storefront.uow import UnitOfWork
from storefront.webhooks.errors import DeliveryNotFound, WebhookNotFound

WebhookId = Annotated[int, Path(ge=1, le=MAX_ID, description="The webhook endpoint's id.")]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="The delivery's id.")]


async def _endpoint(session: UnitOfWork, webhook_id: int, *, for_update: bool) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == webhook_id)
    endpoint = await session.scalar(query.with_for_update() if for_update else query)
    if endpoint is None:
        raise WebhookNotFound()
    return endpoint


async def _visible(_: AdminUser, webhook_id: WebhookId, session: SessionDep) -> WebhookEndpoint:
    return await _endpoint(session, webhook_id, for_update=False)


async def _writable(_: AdminUser, webhook_id: WebhookId, session: WriteSession) -> WebhookEndpoint:
    """As `VisibleWebhook`, its row held until the transaction ends (changes take turns)."""
    return await _endpoint(session, webhook_id, for_update=True)


VisibleWebhook = Annotated[WebhookEndpoint, Depends(_visible)]
WritableWebhook = Annotated[WebhookEndpoint, Depends(_writable)]


async def _delivery(endpoint: VisibleWebhook, delivery_id: DeliveryId, session: SessionDep) -> WebhookDelivery:
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise DeliveryNotFound()
    return delivery


EndpointDelivery = Annotated[WebhookDelivery, Depends(_delivery)]
