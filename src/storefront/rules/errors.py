from enum import StrEnum

from storefront.errors import Conflict, NotFound, Unprocessable


class DiscountNotFound(NotFound):
    code = "discount_not_found"

    def default_detail(self) -> str:
        return "No such discount."


class ShippingMethodNotFound(NotFound):
    code = "shipping_method_not_found"

    def default_detail(self) -> str:
        return "No such shipping method."


class TaxRateNotFound(NotFound):
    code = "tax_rate_not_found"

    def default_detail(self) -> str:
        return "No such tax rate."


class DiscountCodeTaken(Conflict):
    code = "discount_code_taken"

    def default_detail(self) -> str:
        return "Another discount has this code (codes are compared ignoring case)."


class ShippingMethodCodeTaken(Conflict):
    code = "shipping_method_code_taken"

    def default_detail(self) -> str:
        return "Another shipping method has this code (codes are compared ignoring case)."


class TaxRateExists(Conflict):
    code = "tax_rate_exists"

    def default_detail(self) -> str:
        return "This country has a tax rate already: change that one."


class InvalidChange(Unprocessable):
    """A change whose result breaks a rule between fields, some of them not in the
    request (a PATCH of `ends_at` alone, before the stored `starts_at`): answered
    as the same request would be if it had sent them all, a validation error."""

    code = "validation_error"

    def __init__(self, field: str, message: str) -> None:
        issue = {"loc": ["body", field], "msg": message, "type": "value_error"}
        super().__init__("The request is not valid; see `errors`.", errors=[issue], error_count=1)


class DiscountRefusal(StrEnum):
    """Why a discount code cannot be used: the `reason` of `invalid_discount`."""

    unknown = "unknown"
    inactive = "inactive"
    not_started = "not_started"
    expired = "expired"
    used_up = "used_up"
    used_up_for_customer = "used_up_for_customer"
    below_min_subtotal = "below_min_subtotal"


_REFUSALS = {
    DiscountRefusal.unknown: "There is no such discount code.",
    DiscountRefusal.inactive: "This discount code is not active.",
    DiscountRefusal.not_started: "This discount code cannot be used yet.",
    DiscountRefusal.expired: "This discount code has expired.",
    DiscountRefusal.used_up: "This discount code has been used up.",
    DiscountRefusal.used_up_for_customer: "You have used this discount code as often as it may be used.",
    DiscountRefusal.below_min_subtotal: "The subtotal is below the minimum for this discount code.",
}


class InvalidDiscount(Unprocessable):
    """A discount code that cannot be applied, and why (`reason`)."""

    code = "invalid_discount"

    def __init__(self, reason: DiscountRefusal) -> None:
        self.reason = reason
        super().__init__(_REFUSALS[reason], reason=reason.value)


class ShippingUnavailable(Unprocessable):
    """No such shipping method, an inactive one, or one that does not ship to the country."""

    code = "shipping_unavailable"

    def default_detail(self) -> str:
        return "This shipping method does not ship to this country."
