from collections.abc import Iterable

from storefront.errors import Conflict, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"

    def default_detail(self) -> str:
        return "No such product."


class SkuTaken(Conflict):
    code = "sku_taken"

    def default_detail(self) -> str:
        return "Another product has this SKU."


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, product_ids: Iterable[int]) -> None:
        ids = sorted(set(product_ids))
        super().__init__(
            f"Not enough stock for product(s) {', '.join(map(str, ids))}.",
            product_ids=ids,
        )


class StockLimitExceeded(Conflict):
    code = "stock_limit_exceeded"

    def __init__(self, product_id: int, limit: int) -> None:
        super().__init__(f"Stock of product {product_id} would exceed {limit}.", product_ids=[product_id])
