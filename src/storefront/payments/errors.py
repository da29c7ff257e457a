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


class StripeNotConfigured(NotFound):
    """The Stripe webhook, on a shop that does not take cards through Stripe."""

    code = "stripe_not_configured"

    def default_detail(self) -> str:
        return "This shop does not take card payments through Stripe (PAYMENT_PROVIDER is not stripe)."


class InvalidSignatureError(AppError):
    """A webhook delivery not signed with `STRIPE_WEBHOOK_SECRET` within Stripe's tolerance: nothing changes."""

    status_code = 400
    code = "invalid_signature"

    def default_detail(self) -> str:
        return "The Stripe-Signature header does not sign this body with the webhook secret, or is too old."
