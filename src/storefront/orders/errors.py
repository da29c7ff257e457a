from collections.abc import Iterable

from storefront.errors import Conflict, NotFound, Unprocessable


class OrderNotFound(NotFound):
    code = "order_not_found"

    def default_detail(self) -> str:
        return "No such order."


class UnknownProduct(Unprocessable):
    code = "unknown_product"

    def __init__(self, product_ids: Iterable[int]) -> None:
        ids = sorted(set(product_ids))
        super().__init__(f"No such product(s) for sale: {', '.join(map(str, ids))}.", product_ids=ids)


class InvalidTransition(Conflict):
    code = "invalid_transition"
