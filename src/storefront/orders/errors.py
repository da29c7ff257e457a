from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from storefront.errors import Conflict, NotFound, Unprocessable


class OrderNotFound(NotFound):
    code = "order_not_found"

    def default_detail(self) -> str:
        return "No such order."


class UnknownProduct(Unprocessable):
    code = "unknown_product"

    def __init__(self, product_ids: Iterable[int], variant_ids: Iterable[int] = ()) -> None:
        ids, variants = sorted(set(product_ids)), sorted(set(variant_ids))
        named = [f"product(s) {', '.join(map(str, ids))}"] if ids else []
        named += [f"variant(s) {', '.join(map(str, variants))}"] if variants else []
        extra: dict[str, Any] = {"product_ids": ids}
        if variants:
            extra["variant_ids"] = variants
        super().__init__(f"No such {' or '.join(named)} for sale.", **extra)


class VariantRequired(Unprocessable):
    """A line that names only a product, of a product with several variants."""

    code = "variant_required"

    def __init__(self, product_ids: Iterable[int]) -> None:
        ids = sorted(set(product_ids))
        super().__init__(
            f"Product(s) {', '.join(map(str, ids))} have several variants: give each line a variant_id.",
            product_ids=ids,
        )


class InvalidTransition(Conflict):
    code = "invalid_transition"


class RefundExceedsPayment(Conflict):
    """More than paid minus refunded was asked (or nothing is left to refund)."""

    code = "refund_exceeds_payment"

    def __init__(self, left: Decimal, *, asked: Decimal) -> None:
        super().__init__(
            f"At most {left:.2f} can be refunded on this order ({asked:.2f} was asked).",
            refundable=f"{left:.2f}",
        )
