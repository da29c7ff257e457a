"""ISO 3166-1 alpha-2 country codes, checked against pycountry's list."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_extra_types.country import CountryAlpha2

Country = Annotated[CountryAlpha2, Field(examples=["DE"])]
