from storefront.errors import Conflict, NotFound, Unprocessable


class CartNotFound(NotFound):
    code = "cart_not_found"

    def default_detail(self) -> str:
        return "No such cart."


class CartCheckedOut(Conflict):
    code = "cart_checked_out"

    def default_detail(self) -> str:
        return "This cart has been checked out; start a new one."


class TooManyLines(Unprocessable):
    code = "too_many_lines"


class CartEmpty(Unprocessable):
    code = "cart_empty"

    def default_detail(self) -> str:
        return "The cart has no items to check out."
