from collections.abc import Iterable
from typing import Any

from storefront.errors import Conflict, NotFound, Unprocessable


class ProductNotFound(NotFound):
    code = "product_not_found"

    def default_detail(self) -> str:
        return "No such product."


class VariantNotFound(NotFound):
    code = "variant_not_found"

    def default_detail(self) -> str:
        return "No such variant of this product."


class SkuTaken(Conflict):
    code = "sku_taken"

    def default_detail(self) -> str:
        return "Another product or variant has this SKU."


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, product_ids: Iterable[int], variant_ids: Iterable[int] = ()) -> None:
        ids = sorted(set(product_ids))
        variants = sorted(set(variant_ids))
        named = f"variant(s) {', '.join(map(str, variants))}" if variants else f"product(s) {', '.join(map(str, ids))}"
        extra: dict[str, Any] = {"product_ids": ids}
        if variants:
            extra["variant_ids"] = variants
        super().__init__(f"Not enough stock for {named}.", **extra)


class StockLimitExceeded(Conflict):
    code = "stock_limit_exceeded"

    def __init__(self, product_id: int, limit: int) -> None:
        super().__init__(f"Stock of product {product_id} would exceed {limit}.", product_ids=[product_id])


class VariantRequired(Conflict):
    """A product-level change (stock, price, SKU) to a product of several variants: say which variant."""

    code = "variant_required"

    def default_detail(self) -> str:
        return "This product has several variants: change the variant itself."


class VariantExists(Conflict):
    code = "variant_exists"

    def default_detail(self) -> str:
        return "The product already has a variant with these option values."


class OptionsInUse(Conflict):
    code = "options_in_use"

    def __init__(self, variant_ids: Iterable[int]) -> None:
        ids = sorted(set(variant_ids))
        super().__init__(
            f"Variant(s) {', '.join(map(str, ids))} would lose their option value; archive them first.",
            variant_ids=ids,
        )


class TooManyVariants(Conflict):
    code = "too_many_variants"

    def __init__(self, limit: int) -> None:
        super().__init__(f"A product has at most {limit} variants for sale.")


class InvalidOptions(Unprocessable):
    """A variant's option values that do not fit its product's options."""

    code = "invalid_options"
