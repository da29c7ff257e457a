"""The `manual` provider and its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from storefront.config import PaymentProviderName, Settings
from storefront.models import PaymentStatus
from storefront.payments.adapters import provider_from_settings
from storefront.payments.manual import ManualPayments
from storefront.payments.provider import PaymentRequest

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
REQUEST = PaymentRequest(
    order_id=42,
    amount=Decimal("129.90"),
    currency="EUR",
    idempotency_key="storefront-order-42-20261204T093000000000",
    customer_email="ada@example.com",
)


async def test_a_manual_payment_asks_the_customer_to_pay_by_the_due_date() -> None:
    provider = ManualPayments(
        "Pay {amount} {currency} to IBAN DE00 0000 by {due_date}, reference {reference} (order #{order_id}).",
        days=7,
        clock=lambda: NOW,
    )

    started = await provider.start(REQUEST)

    assert provider.name == PaymentProviderName.manual
    assert started.status == PaymentStatus.requires_action
    assert started.due_at == NOW + timedelta(days=7)
    assert started.provider_reference == "ORDER-42"
    assert started.instructions == "Pay 129.90 EUR to IBAN DE00 0000 by 2026-12-11, reference ORDER-42 (order #42)."
    assert started.client_secret is None


async def test_the_default_instructions_name_a_bank_transfer_and_the_order_number() -> None:
    settings = Settings(_env_file=None)
    provider = provider_from_settings(settings)

    started = await provider.start(REQUEST)

    assert settings.payment_provider == PaymentProviderName.manual
    assert settings.manual_payment_days == 7
    assert started.instructions is not None
    assert "bank transfer" in started.instructions
    assert "#42" in started.instructions
    assert "129.90 EUR" in started.instructions


def test_amounts_go_to_providers_in_minor_units() -> None:
    assert REQUEST.amount_minor == 12990


@pytest.mark.parametrize("template", ["Pay {amount} to {iban}", "Pay {", "Pay {0}"])
def test_instructions_with_an_unknown_placeholder_stop_the_start(template: str) -> None:
    with pytest.raises(ValidationError, match="manual_payment_instructions"):
        Settings(_env_file=None, manual_payment_instructions=template)


@pytest.mark.parametrize(("name", "value"), [("payment_provider", "paypal"), ("manual_payment_days", 0)])
def test_payment_settings_are_checked(name: str, value: object) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings.model_validate({name: value})


def test_what_holds_a_client_secret_never_shows_it() -> None:
    from storefront.models import Payment
    from storefront.payments.provider import StartedPayment

    started = StartedPayment(status=PaymentStatus.requires_payment, due_at=NOW, client_secret="pi_123_secret_456")
    stored = Payment(
        order_id=1, provider="stripe", status=PaymentStatus.requires_payment, client_secret="pi_123_secret_456"
    )
    assert "secret_456" not in repr(started)
    assert "secret_456" not in repr(stored)
