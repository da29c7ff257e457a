"""Carts nobody changed for `CART_TTL_DAYS` go, with their lines."""

from sqlalchemy import delete

from storefront.kit.retention import Rule
from storefront.models import Cart

RULES = (Rule("carts", lambda h: delete(Cart).where(Cart.updated_at < h.carts)),)
