"""The adapter `PAYMENT_PROVIDER` names, built once per process (the app context holds it)."""

from __future__ import annotations

from storefront.config import PaymentProviderName, Settings
from storefront.payments.manual import ManualPayments
from storefront.payments.provider import PaymentProvider
from storefront.payments.stripe_payments import StripePayments


def provider_from_settings(settings: Settings) -> PaymentProvider:
    match settings.payment_provider:
        case PaymentProviderName.manual:
            return ManualPayments(settings.manual_payment_instructions, days=settings.manual_payment_days)
        case PaymentProviderName.stripe:
            return StripePayments(settings)
