"""Base schemas and the money type shared by every domain."""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, ClassVar, Final, Union, get_args, get_origin

from annotated_types import GroupedMetadata, MinLen
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
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


# Whitespace as Python (`str.isspace`) and ECMAScript (`\s`, what JSON Schema tools
# match patterns with) see it: the union of the two, so that "blank" means one thing
# in the server and in every tool reading the document. Python adds \x1c-\x1f and
# \x85, ECMAScript the byte order mark; `str.strip()` and `\s` are never used for text.
WHITESPACE: Final = (
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def _char_class(chars: str) -> str:
    """The inside of a regex character class matching `chars`, each written `\\uXXXX`
    (Python's `re`, Rust's `regex` and ECMAScript read it alike), runs as ranges."""
    points = sorted({ord(char) for char in chars})
    runs: list[list[int]] = []
    for point in points:
        if runs and point == runs[-1][-1] + 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return "".join(
        f"\\u{run[0]:04x}-\\u{run[-1]:04x}" if len(run) > 2 else "".join(f"\\u{point:04x}" for point in run)
        for run in runs
    )


def some_text_pattern(forbidden: str = "") -> str:
    """A pattern for text that is not blank: at least one character outside
    `WHITESPACE`, and none of NUL (which `InputModel` refuses) or `forbidden`."""
    others = rf"\x00{_char_class(forbidden)}"
    return rf"^[^{others}]*[^{_char_class(WHITESPACE)}{others}][^{others}]*$"


def trimmed_text_pattern(forbidden: str = "") -> str:
    """A pattern for text kept as sent (`Verbatim`) that must still be clean:
    not blank, no surrounding `WHITESPACE`, none of NUL or `forbidden`."""
    others = rf"\x00{_char_class(forbidden)}"
    edge = rf"[^{_char_class(WHITESPACE)}{others}]"
    return rf"^{edge}(?:[^{others}]*{edge})?$"


class _Verbatim:
    """The marker type of `Verbatim`."""

    def __repr__(self) -> str:
        return "Verbatim"


# In a text field's `Annotated[...]`: the text is kept exactly as sent, not stripped
# of surrounding whitespace (passwords, tokens: a secret is every character of it).
Verbatim: Final = _Verbatim()


class _Text(enum.Enum):
    """What `InputModel` does with a text field after validating it."""

    VERBATIM = "kept as sent"
    STRIPPED = "stripped"
    REQUIRED = "stripped, and blank is refused"  # a `min_length` of 1 or more


def _metadata(items: Iterable[Any]) -> Iterable[Any]:
    for item in items:
        if isinstance(item, FieldInfo):
            yield from _metadata(item.metadata)
        elif isinstance(item, GroupedMetadata):  # StringConstraints, annotated_types.Len
            yield from _metadata(item)
        else:
            yield item


def _holds_text(annotation: Any) -> bool:
    """Whether a type is or contains `str`."""
    if annotation is str:
        return True
    return any(_holds_text(arg) for arg in get_args(annotation) if not isinstance(arg, str))


def _field_text(model: type[BaseModel], name: str, field: FieldInfo) -> _Text | None:
    """How a field's text is cleaned, None for a field that is not text. Its metadata
    is the field's own and that of the `Annotated` branches of a union (`Name | None`)."""
    annotation, found = field.annotation, list(field.metadata)
    branches = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    kinds = []
    for branch in branches:
        if get_origin(branch) is Annotated:
            found.extend(branch.__metadata__)
            branch = get_args(branch)[0]
        kinds.append(branch)
    verbatim = any(item is Verbatim for item in _metadata(found))
    if not verbatim and any(kind is not str and _holds_text(kind) for kind in kinds):
        # Text in a list or dict: the validator looks at each field's value only,
        # so it would be neither stripped nor checked for NUL. Such text is kept
        # as sent, said so (`Verbatim`), and its own pattern keeps it clean.
        raise TypeError(f"{model.__name__}.{name}: text in a container is not cleaned; mark it Verbatim or model it")
    if str not in kinds:
        return None
    metadata = list(_metadata(found))
    if verbatim:
        return _Text.VERBATIM
    if any(isinstance(item, MinLen) and item.min_length >= 1 for item in metadata):
        return _Text.REQUIRED
    return _Text.STRIPPED


@cache
def _text_fields(model: type[BaseModel]) -> Mapping[str, _Text]:
    fields = {name: _field_text(model, name, field) for name, field in model.model_fields.items()}
    return {name: text for name, text in fields.items() if text is not None}


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, so nothing slips in unnamed.

    Text is validated as sent: `min_length`, `max_length` and `pattern` count every
    character, as the document's `minLength`, `maxLength` and `pattern` do. Then
    NUL is refused and surrounding whitespace stripped, except in fields marked
    `Verbatim`; a field with a `min_length` that is only whitespace is refused
    ("may not be blank"), and its pattern in the document says so.

    Fields named in `not_nullable` may be left out but not set to null (and the
    document does not call them nullable).
    """

    model_config = ConfigDict(extra="forbid")
    not_nullable: ClassVar[frozenset[str]] = frozenset()
    # What `_clean_text` refuses, said in the document of every free-text field:
    # NUL anywhere, and in a field with a `min_length`, text that is only whitespace.
    NO_NUL_PATTERN: ClassVar[str] = r"^[^\x00]*$"
    SOME_TEXT_PATTERN: ClassVar[str] = some_text_pattern()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__pydantic_complete__:
            _text_fields(cls)  # refuses text in a container when the model is defined

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        # PostgreSQL cannot store NUL in text and SQLite would: refuse it on both.
        if "\x00" in value:
            raise ValueError("text may not contain the NUL character")
        text = _text_fields(cls).get(info.field_name or "")
        if type(value) is not str or text in (None, _Text.VERBATIM):  # an enum's member is no text
            return value
        stripped = value.strip(WHITESPACE)
        if not stripped and text is _Text.REQUIRED:
            raise ValueError("may not be blank")
        return stripped

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
        texts = {
            field.alias or name: text
            for name, field in cls.model_fields.items()
            if (text := _text_fields(cls).get(name))
        }
        for name, field in properties.items():
            pattern = cls.SOME_TEXT_PATTERN if texts.get(name) is _Text.REQUIRED else cls.NO_NUL_PATTERN
            for branch in [field, *field.get("anyOf", [])]:
                if branch.get("type") == "string" and not {"pattern", "format", "enum", "const"} & branch.keys():
                    branch["pattern"] = pattern
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
