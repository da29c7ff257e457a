"""Base schemas and the money type shared by every domain."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

# Money in: a JSON number or string with at most two decimals. Money out: a
# string with exactly two ("129.90"), so no client ever parses it as a float.
Money = Annotated[
    Decimal,
    Field(max_digits=16, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
]


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, so nothing slips in unnamed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text and SQLite would: refuse it on both.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text may not contain the NUL character")
        return value


class ReadModel(BaseModel):
    """Response bodies, built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class PatchModel(InputModel):
    """A partial update: only the fields sent change.

    Fields named in `not_nullable` may be left out but not set to null.
    """

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> PatchModel:
        nulled = sorted(name for name in self.not_nullable & self.model_fields_set if getattr(self, name) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} may not be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
