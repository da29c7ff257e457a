"""All ORM models, one module per aggregate; importing this registers them all."""

from storefront.models.idempotency import IdempotencyRecord
from storefront.models.order import Order, OrderItem, OrderStatus
from storefront.models.outbox import Audience, Email, EmailStatus, Event, StreamTicket
from storefront.models.product import Product
from storefront.models.user import Role, User

__all__ = [
    "Audience",
    "Email",
    "EmailStatus",
    "Event",
    "StreamTicket",
    "IdempotencyRecord",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Product",
    "Role",
    "User",
]
