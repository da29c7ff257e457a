"""Base schemas and the money type shared by every domain."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

MONEY_TEXT = re.compile(r"^\d+(\.\d{1,2})?$")
# "1000000.00" and then some: no amount the API takes or sends is longer.
MONEY_TEXT_MAX = 16


def _money_text(value: Any) -> Any:
    """A money string is digits with at most two decimals: not "1e2", " 5" or "-0"."""
    if isinstance(value, str) and (len(value) > MONEY_TEXT_MAX or not MONEY_TEXT.fullmatch(value)):
        raise ValueError('an amount is digits with at most two decimals, as in "12.50"')
    return value


def money_pattern(minimum: float, *, exclusive: bool, maximum: float | None) -> str | None:
    """`MONEY_TEXT` narrowed to amounts from `minimum` (0) to `maximum` (a power of ten,
    or None): a string cannot carry JSON Schema's numeric bounds, a pattern can.
    None for bounds it cannot say."""
    digits = str(int(maximum)) if maximum is not None and maximum == int(maximum) else ""
    if minimum != 0 or (maximum is not None and not re.fullmatch(r"10+", digits)):
        return None
    if maximum is None:
        alternatives = [r"0*[1-9]\d*(?:\.\d{1,2})?"]
    else:
        zeros = len(digits) - 1
        alternatives = [rf"0*[1-9]\d{{0,{zeros - 1}}}(?:\.\d{{1,2}})?", rf"0*{digits}(?:\.00?)?"]
    alternatives.append(r"0+\.(?:0[1-9]|[1-9]\d?)" if exclusive else r"0+(?:\.\d{1,2})?")
    return f"^(?:{'|'.join(alternatives)})$"


class _MoneySchema:
    """What the document says of money: the number's cents (`multipleOf`), the
    string's pattern and length, in and out."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        if handler.mode == "serialization":
            return {**schema, "pattern": r"^-?\d+\.\d{2}$", "maxLength": MONEY_TEXT_MAX}
        for branch in schema.get("anyOf", []):
            if branch.get("type") == "number":
                branch["multipleOf"] = 0.01
            elif branch.get("type") == "string":
                branch.update(pattern=MONEY_TEXT.pattern, maxLength=MONEY_TEXT_MAX)
        return schema


# Money in: a JSON number or string with at most two decimals. Money out: a
# string with exactly two ("129.90"), so no client ever parses it as a float.
Money = Annotated[
    Decimal,
    Field(max_digits=16, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
    BeforeValidator(_money_text),
    _MoneySchema,
]


def _integral(value: Any) -> Any:
    """JSON has one number type: `25.0` is the integer 25 (as JSON Schema says), `25.5` is not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# After a strict int's constraints: a whole JSON number is taken, `true` and "25" are not.
INTEGRAL = BeforeValidator(_integral)

# Response fields, bounded by what the inputs and columns let in.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Count = Annotated[int, Field(ge=0, le=MAX_ID)]


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, so nothing slips in unnamed.

    Fields named in `not_nullable` may be left out but not set to null (and the
    document does not call them nullable).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    not_nullable: ClassVar[frozenset[str]] = frozenset()
    # What `_no_nul` refuses, said in the document of every free-text field.
    NO_NUL_PATTERN: ClassVar[str] = r"^[^\x00]*$"

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text and SQLite would: refuse it on both.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text may not contain the NUL character")
        return value

    @model_validator(mode="after")
    def _no_null_for_required(self) -> InputModel:
        nulled = sorted(name for name in self.not_nullable & self.model_fields_set if getattr(self, name) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} may not be null")
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for field in properties.values():
            for branch in [field, *field.get("anyOf", [])]:
                if branch.get("type") == "string" and not {"pattern", "format", "enum", "const"} & branch.keys():
                    branch["pattern"] = cls.NO_NUL_PATTERN
        for name in cls.not_nullable & properties.keys():
            field = properties[name]
            branches = [branch for branch in field.get("anyOf", []) if branch.get("type") != "null"]
            if len(branches) == 1:
                rest = {key: value for key, value in field.items() if key not in {"anyOf", "default"}}
                properties[name] = {**branches[0], **rest}
        return schema


class ReadModel(BaseModel):
    """Response bodies, built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class PatchModel(InputModel):
    """A partial update: only the fields sent change."""

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
