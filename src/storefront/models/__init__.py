"""All ORM models, one module per aggregate; importing this registers them all."""

from storefront.models.idempotency import IdempotencyRecord
from storefront.models.order import Order, OrderItem, OrderStatus
from storefront.models.product import Product
from storefront.models.user import Role, User

__all__ = ["IdempotencyRecord", "Order", "OrderItem", "OrderStatus", "Product", "Role", "User"]
