"""All ORM models, one module per aggregate; importing this registers them all."""

from storefront.models.product import Product
from storefront.models.user import Role, User

__all__ = ["Product", "Role", "User"]
