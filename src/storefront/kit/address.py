"""A postal address: what an order ships to (and, with carts, what shipping is priced for)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from storefront.kit.country import Country
from storefront.kit.schemas import InputModel, ReadModel

# Longest line an address read may show: orders placed before addresses were
# structured keep the one line they were given (up to 500 characters) as `line1`.
LEGACY_LINE_MAX = 500


class Address(InputModel):
    """Name, street, city, postal code and country (ISO 3166-1 alpha-2, any case: stored upper case)."""

    name: Annotated[str, Field(min_length=1, max_length=100, examples=["Ada Lovelace"])]
    line1: Annotated[str, Field(min_length=1, max_length=200, examples=["1 Main Street"])]
    line2: Annotated[str, Field(max_length=200, examples=["Flat 2"])] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100, examples=["Berlin"])]
    postal_code: Annotated[str, Field(min_length=1, max_length=20, examples=["10115"])]
    region: Annotated[str, Field(max_length=100, examples=["Berlin"])] | None = None
    country: Annotated[Country, Field(max_length=2)]
    phone: Annotated[str, Field(max_length=32, examples=["+49 30 1234567"])] | None = None

    @model_validator(mode="after")
    def _blank_is_none(self) -> Address:
        # An optional line left blank is no line: "" and "  " are stored as null.
        for name in ("line2", "region", "phone"):
            if getattr(self, name) == "":
                setattr(self, name, None)
        return self

    def stored(self) -> dict[str, Any]:
        """The address as a JSON column keeps it (the country a plain string)."""
        return self.model_dump(mode="json")


class AddressRead(ReadModel):
    """An address as stored. One recorded before addresses were structured has its
    text in `line1` and empty `name`, `city`, `postal_code` and `country`."""

    name: Annotated[str, Field(max_length=100)]
    line1: Annotated[str, Field(max_length=LEGACY_LINE_MAX)]
    line2: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(max_length=100)]
    postal_code: Annotated[str, Field(max_length=20)]
    region: Annotated[str, Field(max_length=100)] | None = None
    country: Annotated[str, Field(pattern=r"^(?:[A-Z]{2})?$", max_length=2, examples=["DE"])]
    phone: Annotated[str, Field(max_length=32)] | None = None
