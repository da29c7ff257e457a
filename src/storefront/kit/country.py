"""Countries: ISO 3166-1 alpha-2 codes, checked against pycountry's tables.

`Country` is what every schema that names a country takes (shipping methods, tax
rates, addresses): `"DE"` or `"de"`, kept upper-case; a code that names no
country (`"XX"`, `"UK"`, `"EU"`) is 422. The list is pycountry's, so a code
ISO adds or withdraws follows with a dependency update, not a code change.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_extra_types.country import CountryAlpha2

COUNTRY_PATTERN: Final = r"^[A-Za-z]{2}$"

Country = Annotated[
    CountryAlpha2,
    # A plain `str` from here on: the ORM, the drivers and JSON see no subclass.
    AfterValidator(str),
    Field(examples=["DE"]),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 2,
            "maxLength": 2,
            "pattern": COUNTRY_PATTERN,
            "description": "An ISO 3166-1 alpha-2 country code (`DE`; lower case is taken and stored upper-case).",
        }
    ),
]
