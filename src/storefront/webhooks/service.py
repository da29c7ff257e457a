"""Webhook endpoints and their deliveries, as admins manage them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from storefront.config import Settings
from storefront.db import utcnow
from storefront.kit.net import Resolver, UnsafeURL, check_url
from storefront.kit.pagination import Page, PageOf, fetch
from storefront.kit.secretbox import SealedWithAnotherKey
from storefront.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from storefront.uow import UnitOfWork, delivery_row, webhook_payload
from storefront.webhooks import secrets
from storefront.webhooks.errors import UnsafeURLError, WebhookInactive
from storefront.webhooks.schemas import MAX_ATTEMPTS_LISTED, TEST_EVENT, WebhookCreate, WebhookUpdate

ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str  # shown once, in the answer to the create


async def _checked(url: str, settings: Settings, resolver: Resolver) -> str:
    try:
        await check_url(url, resolver, allow_private=settings.webhook_allow_private)
    except UnsafeURL as exc:
        raise UnsafeURLError(str(exc)) from None
    return url


async def list_endpoints(session: UnitOfWork, page: Page) -> PageOf[WebhookEndpoint]:
    return await fetch(session, select(WebhookEndpoint).order_by(WebhookEndpoint.id), page)


async def create(session: UnitOfWork, body: WebhookCreate, settings: Settings, resolver: Resolver) -> Created:
    secret = secrets.new_secret()
    endpoint = WebhookEndpoint(
        url=await _checked(body.url, settings, resolver),
        events=[str(event) for event in body.events],
        description=body.description,
        active=True,
        secret=secrets.box(settings.signing_key()).seal(secret),
        consecutive_failures=0,
    )
    session.add(endpoint)
    await session.flush()
    return Created(endpoint, secret)


async def update_endpoint(
    session: UnitOfWork, endpoint: WebhookEndpoint, body: WebhookUpdate, settings: Settings, resolver: Resolver
) -> WebhookEndpoint:
    changes = body.changes()
    if "url" in changes:
        endpoint.url = await _checked(changes["url"], settings, resolver)
    if "events" in changes:
        endpoint.events = [str(event) for event in changes["events"]]
    if "description" in changes:
        endpoint.description = changes["description"]
    if changes.get("active") is True and not endpoint.active:
        endpoint.consecutive_failures = 0
        endpoint.disabled_reason = None
    if "active" in changes:
        endpoint.active = changes["active"]
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint


async def delete(session: UnitOfWork, endpoint: WebhookEndpoint) -> None:
    """The endpoint goes, and with it its deliveries and their attempts."""
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: UnitOfWork, endpoint: WebhookEndpoint, settings: Settings
) -> tuple[str, datetime | None]:
    """A new secret; the current one keeps signing beside it for 24 hours (an older
    one, from a rotation less than 24 hours ago, stops at once)."""
    box = secrets.box(settings.signing_key())
    secret = secrets.new_secret()
    expires = utcnow() + ROTATION_OVERLAP
    try:
        box.open(endpoint.secret)
    except SealedWithAnotherKey:  # sealed before SECRET_KEY changed: it can sign nothing any more
        endpoint.previous_secret, endpoint.previous_secret_expires_at = None, None
    else:
        endpoint.previous_secret, endpoint.previous_secret_expires_at = endpoint.secret, expires
    endpoint.secret = box.seal(secret)
    endpoint.updated_at = utcnow()
    await session.flush()
    return secret, endpoint.previous_secret_expires_at


async def send_test(session: UnitOfWork, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` delivery to this endpoint only, due at once."""
    if not endpoint.active:
        raise WebhookInactive()
    now = utcnow()
    data = {"webhook_id": endpoint.id, "message": "A test delivery from Storefront."}
    delivery = WebhookDelivery(**delivery_row(endpoint.id, TEST_EVENT, webhook_payload(TEST_EVENT, now, data)))
    session.add(delivery)
    await session.flush()
    session.wake_jobs()
    return delivery


async def list_deliveries(
    session: UnitOfWork, endpoint: WebhookEndpoint, status: DeliveryStatus | None, page: Page
) -> PageOf[WebhookDelivery]:
    """Newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return await fetch(session, query.order_by(WebhookDelivery.id.desc()), page)


async def attempts(session: UnitOfWork, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    """Its latest attempts, oldest first."""
    query = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.id.desc())
        .limit(MAX_ATTEMPTS_LISTED)
    )
    return list(reversed(list(await session.scalars(query))))


async def retry(session: UnitOfWork, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send it again now, a delivered or failed one too. An attempt in flight is
    superseded: its outcome is no longer recorded (it no longer holds the lease)."""
    if not endpoint.active:
        raise WebhookInactive()
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(status=DeliveryStatus.pending, next_attempt_at=utcnow(), lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    session.wake_jobs()
    await session.refresh(delivery)
    return delivery
