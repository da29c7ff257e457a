from storefront.errors import AppError, NotFound


class PaymentProviderUnavailable(AppError):
    """The provider failed or did not answer in time: nothing was ordered, no stock is taken."""

    status_code = 502
    code = "payment_provider_unavailable"

    def default_detail(self) -> str:
        return "The payment provider could not be reached; nothing was ordered. Try again shortly."


class PaymentNotFound(NotFound):
    code = "payment_not_found"

    def default_detail(self) -> str:
        return "This order has no payment record (it was placed before payments were recorded)."
