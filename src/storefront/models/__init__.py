"""All ORM models, one module per aggregate; importing this registers them all."""

from storefront.models.audit import AuditEntry
from storefront.models.cart import Cart, CartItem
from storefront.models.idempotency import IdempotencyRecord
from storefront.models.order import Order, OrderItem, OrderStatus
from storefront.models.outbox import Audience, Email, EmailStatus, Event, StreamTicket
from storefront.models.payment import Payment, PaymentStatus, ProviderEvent, Refund, RefundStatus
from storefront.models.product import Product, ProductOption, ProductVariant, option_key
from storefront.models.rules import Discount, DiscountCustomerUse, ShippingMethod, TaxRate, code_key
from storefront.models.session import ApiKey, AuthSession, PasswordResetToken, RefreshToken
from storefront.models.user import Role, User
from storefront.models.webhook import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiKey",
    "Audience",
    "AuditEntry",
    "AuthSession",
    "Cart",
    "CartItem",
    "DeliveryStatus",
    "Discount",
    "DiscountCustomerUse",
    "Email",
    "EmailStatus",
    "Event",
    "IdempotencyRecord",
    "Order",
    "OrderItem",
    "OrderStatus",
    "PasswordResetToken",
    "Payment",
    "PaymentStatus",
    "Product",
    "ProductOption",
    "ProductVariant",
    "ProviderEvent",
    "RefreshToken",
    "Refund",
    "RefundStatus",
    "Role",
    "ShippingMethod",
    "StreamTicket",
    "TaxRate",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "code_key",
    "option_key",
]
