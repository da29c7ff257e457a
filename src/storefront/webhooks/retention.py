"""Delivery logs older than `RETENTION_DAYS` go once settled (delivered or failed), with their attempts."""

from sqlalchemy import delete

from storefront.kit.retention import Rule
from storefront.models import DeliveryStatus, WebhookDelivery

RULES = (
    Rule(
        "webhook_deliveries",
        lambda h: delete(WebhookDelivery).where(
            WebhookDelivery.created_at < h.cutoff, WebhookDelivery.status != DeliveryStatus.pending
        ),
    ),
)
