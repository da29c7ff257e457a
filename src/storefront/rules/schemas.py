"""Discount codes, shipping methods and tax rates, in and out."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from storefront.kit.country import Country
from storefront.kit.schemas import INTEGRAL, MAX_ID, Count, Id, InputModel, Money, PatchModel, ReadModel
from storefront.models.rules import CODE_LENGTH
from storefront.pricing import DiscountKind

HUNDRED: Final = Decimal(100)
MAX_AMOUNT: Final = Decimal(1_000_000)
# Every country there is; a method names each once.
MAX_COUNTRIES: Final = 249


def _utc(value: datetime) -> datetime:
    # The largest or smallest times with an offset fall outside what a datetime holds in UTC.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None


ISO_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")


def _text(value: Any) -> Any:
    # Pydantic would read a number, or a string of digits, as seconds since 1970; the document says a date-time.
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_DATE_START.match(value)):
        return value
    raise ValueError("a time is an ISO 8601 string with an offset, as in 2027-01-01T00:00:00Z")


# A point in time sent by a client: an ISO 8601 string with an offset (a time
# without one says no moment), kept in UTC.
Instant = Annotated[AwareDatetime, BeforeValidator(_text), AfterValidator(_utc)]
# Codes are matched ignoring case; letters, digits, `-` and `_` only, so they
# read the same everywhere (a URL, an email, a receipt).
Code = Annotated[str, Field(min_length=1, max_length=CODE_LENGTH, pattern=r"^[A-Za-z0-9_-]+$")]
Amount = Annotated[Money, Field(ge=Decimal(0), le=MAX_AMOUNT)]
# JSON `true`/`false`, not 0 or "yes".
Active = Annotated[bool, Field(strict=True)]
# Strict: JSON `true` or `"5"` is no count (`5.0` is).
Uses = Annotated[int, Field(ge=1, le=MAX_ID, strict=True), INTEGRAL]

# --- discounts ---------------------------------------------------------------------------

DiscountCode = Annotated[Code, Field(examples=["WELCOME10"])]
DiscountValue = Annotated[
    Money,
    Field(
        gt=Decimal(0),
        le=MAX_AMOUNT,
        examples=["10.00"],
        description="A percentage (up to 100) for `percent`, an amount of money for `fixed`.",
    ),
]
StartsAt = Annotated[Instant, Field(examples=["2026-12-01T00:00:00Z"], description="Valid from then on.")]
EndsAt = Annotated[Instant, Field(examples=["2027-01-01T00:00:00Z"], description="Valid until then (not at it).")]
MaxUses = Annotated[Uses, Field(examples=[500], description="Orders that may use the code, all together.")]
MaxUsesPerCustomer = Annotated[Uses, Field(examples=[1], description="Orders each customer may use it on.")]
MinSubtotal = Annotated[Amount, Field(examples=["25.00"], description="The least subtotal it applies to.")]


class DiscountCreate(InputModel):
    """A percent discount is at most 100; `ends_at`, when given, is after `starts_at`."""

    code: DiscountCode
    kind: DiscountKind = Field(examples=["percent"])
    value: DiscountValue
    starts_at: StartsAt | None = None
    ends_at: EndsAt | None = None
    max_uses: MaxUses | None = None
    max_uses_per_customer: MaxUsesPerCustomer | None = None
    min_subtotal: MinSubtotal | None = None
    active: Active = True


class DiscountUpdate(PatchModel):
    """The fields sent change; the result must still be a valid discount (else 422)."""

    not_nullable = frozenset({"code", "kind", "value", "active"})

    code: DiscountCode | None = None
    kind: DiscountKind | None = Field(None, examples=["percent"])
    value: DiscountValue | None = None
    starts_at: StartsAt | None = None
    ends_at: EndsAt | None = None
    max_uses: MaxUses | None = None
    max_uses_per_customer: MaxUsesPerCustomer | None = None
    min_subtotal: MinSubtotal | None = None
    active: Active | None = None


class DiscountRead(ReadModel):
    id: Id
    code: DiscountCode
    kind: DiscountKind
    value: Money
    starts_at: datetime | None
    ends_at: datetime | None
    max_uses: Annotated[int, Field(ge=1, le=MAX_ID)] | None
    max_uses_per_customer: Annotated[int, Field(ge=1, le=MAX_ID)] | None
    min_subtotal: Money | None
    active: bool
    used: Count = Field(description="Orders that used the code (cancelled ones give theirs back); read-only.")
    created_at: datetime
    updated_at: datetime


# --- shipping methods ----------------------------------------------------------------------

ShippingCode = Annotated[Code, Field(examples=["standard"])]
ShippingName = Annotated[str, Field(min_length=1, max_length=120, examples=["Standard delivery"])]
ShippingPrice = Annotated[Amount, Field(examples=["4.90"])]
FreeOver = Annotated[
    Amount, Field(examples=["50.00"], description="Free when the discounted subtotal is at least this much.")
]
Countries = Annotated[
    list[Country],
    Field(
        min_length=1,
        max_length=MAX_COUNTRIES,
        examples=[["BE", "DE", "FR", "NL"]],
        json_schema_extra={"uniqueItems": True},
    ),
]


def _each_once(countries: list[str]) -> list[str]:
    if len(set(countries)) != len(countries):
        raise ValueError("each country may appear once")
    return countries


class ShippingMethodCreate(InputModel):
    code: ShippingCode
    name: ShippingName
    price: ShippingPrice
    free_over: FreeOver | None = None
    countries: Countries = Field(description="The countries it ships to (ISO 3166-1 alpha-2).")
    active: Active = True

    @field_validator("countries")
    @classmethod
    def _distinct(cls, countries: list[str]) -> list[str]:
        return _each_once(countries)


class ShippingMethodUpdate(PatchModel):
    not_nullable = frozenset({"code", "name", "price", "countries", "active"})

    code: ShippingCode | None = None
    name: ShippingName | None = None
    price: ShippingPrice | None = None
    free_over: FreeOver | None = None
    countries: Countries | None = None
    active: Active | None = None

    @field_validator("countries")
    @classmethod
    def _distinct(cls, countries: list[str] | None) -> list[str] | None:
        return None if countries is None else _each_once(countries)


class ShippingMethodRead(ReadModel):
    id: Id
    code: ShippingCode
    name: ShippingName
    price: Money
    free_over: Money | None
    countries: Annotated[list[Country], Field(max_length=MAX_COUNTRIES)]
    active: bool
    created_at: datetime
    updated_at: datetime


# --- tax rates -------------------------------------------------------------------------------

RATE_TEXT = re.compile(r"^(?:100(?:\.0{1,3})?|\d{1,2}(?:\.\d{1,3})?)$")
RATE_TEXT_MAX = 7  # "100.000"


def _rate_text(value: Any) -> Any:
    """A rate as text is 0..100 with at most three decimals: not "1e1", " 7" or "-0"."""
    if isinstance(value, str) and (len(value) > RATE_TEXT_MAX or not RATE_TEXT.fullmatch(value)):
        raise ValueError('a rate is a percentage from 0 to 100 with at most three decimals, as in "19" or "7.7"')
    return value


class _RateSchema:
    """The document's view of a rate: a number in thousandths or such a string in;
    a string with three decimals out."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        if handler.mode == "serialization":
            return {"type": "string", "pattern": r"^\d{1,3}\.\d{3}$", "maxLength": RATE_TEXT_MAX}
        return {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.001},
                {"type": "string", "pattern": RATE_TEXT.pattern, "maxLength": RATE_TEXT_MAX},
            ]
        }


# A percentage with up to three decimals: in as a JSON number or string, out as a
# string with three ("19.000"), exact like money.
Rate = Annotated[
    Decimal,
    Field(ge=0, le=HUNDRED, max_digits=6, decimal_places=3, allow_inf_nan=False),
    PlainSerializer(lambda value: f"{value:.3f}", return_type=str, when_used="json"),
    BeforeValidator(_rate_text),
    _RateSchema,
]
TaxRateValue = Annotated[Rate, Field(examples=["19"], description="A percentage, 0..100, up to three decimals.")]
TaxCountry = Annotated[Country, Field(description="The country (ISO 3166-1 alpha-2): one rate each.")]


class TaxRateCreate(InputModel):
    country: TaxCountry
    rate: TaxRateValue


class TaxRateUpdate(PatchModel):
    not_nullable = frozenset({"country", "rate"})

    country: TaxCountry | None = None
    rate: TaxRateValue | None = None


class TaxRateRead(ReadModel):
    id: Id
    country: Country
    rate: Rate
    created_at: datetime
    updated_at: datetime
