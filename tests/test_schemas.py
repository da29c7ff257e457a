"""How request bodies treat text (kit.schemas.InputModel): checked as sent, then
stripped of surrounding whitespace, blank refused where text is required; and the
document's patterns say the same, character for character."""

from __future__ import annotations

import re
import sys
import unicodedata
from enum import StrEnum
from typing import Annotated, Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from storefront.kit.schemas import WHITESPACE, InputModel, Verbatim, some_text_pattern

# ECMAScript's `\s` (ECMA-262, WhiteSpace and LineTerminator): what a JSON Schema
# tool means by whitespace in a pattern.
ECMASCRIPT_SPACE = {"\t", "\v", "\f", " ", "\xa0", "\ufeff", "\n", "\r", "\u2028", "\u2029"} | {
    char for char in map(chr, range(sys.maxunicode + 1)) if unicodedata.category(char) == "Zs"
}
SOME_TEXT = InputModel.SOME_TEXT_PATTERN


class Colour(StrEnum):
    red = "red"


class Sample(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=5)]
    note: str | None = None
    label: Annotated[str, Field(min_length=1, max_length=5)] | None = None
    secret: Annotated[str, Verbatim, Field(min_length=1, max_length=8)] = "s"
    colour: Colour = Colour.red


def errors(**fields: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as raised:
        Sample(**fields)
    return [(error["loc"], error["msg"]) for error in raised.value.errors()]


def test_whitespace_is_what_python_and_ecmascript_call_whitespace() -> None:
    python = {char for char in map(chr, range(sys.maxunicode + 1)) if char.isspace()}

    assert set(WHITESPACE) == python | ECMASCRIPT_SPACE
    assert len(WHITESPACE) == len(set(WHITESPACE))


@pytest.mark.parametrize("char", list(WHITESPACE), ids=lambda char: f"U+{ord(char):04X}")
def test_the_pattern_and_the_validator_agree_on_each_whitespace_character(char: str) -> None:
    assert re.fullmatch(SOME_TEXT, char) is None
    assert re.fullmatch(SOME_TEXT, char * 3) is None
    assert errors(name=char) == [(("name",), "Value error, may not be blank")]
    assert errors(name=char * 3) == [(("name",), "Value error, may not be blank")]

    assert re.fullmatch(SOME_TEXT, f"{char}a{char}")
    assert Sample(name=f"{char}a{char}").name == "a"
    assert Sample(name=f"a{char}b").name == f"a{char}b"  # inside, whitespace stays


def test_information_separator_alone_is_blank() -> None:
    # Python's `str.isspace` says so and ECMAScript's `\s` does not: blank on both sides.
    assert re.fullmatch(SOME_TEXT, "\x1c") is None
    assert errors(name="\x1c") == [(("name",), "Value error, may not be blank")]


def test_the_pattern_admits_any_one_character_but_whitespace_and_nul() -> None:
    admitted = {char for char in map(chr, range(sys.maxunicode + 1)) if re.fullmatch(SOME_TEXT, char)}

    assert len(admitted) == sys.maxunicode + 1 - len(WHITESPACE) - 1
    assert not admitted & (set(WHITESPACE) | {"\x00"})
    assert "\u200b" in admitted  # a zero-width space is no whitespace to either
    assert Sample(name="\u200b").name == "\u200b"


def test_a_pattern_of_its_own_refuses_blank_text_as_the_server_does() -> None:
    # pydantic checks `pattern` with Rust's regex; the document's readers with ECMAScript.
    pattern = some_text_pattern(forbidden="\r\n")
    subject = TypeAdapter(Annotated[str, Field(pattern=pattern)])
    for char in WHITESPACE:
        assert re.fullmatch(pattern, char) is None
        with pytest.raises(ValidationError):
            subject.validate_python(char)
    for text in ("a\rb", "a\nb", "a\x00"):
        assert re.fullmatch(pattern, text) is None
        with pytest.raises(ValidationError):
            subject.validate_python(text)
    assert subject.validate_python(" Your parcel ") == " Your parcel "
    assert re.fullmatch(pattern, " Your parcel ")


def test_length_counts_the_text_as_sent() -> None:
    assert Sample(name="abcde").name == "abcde"
    assert Sample(name=" abc ").name == "abc"
    too_long = [(("name",), "String should have at most 5 characters")]
    assert errors(name="abcde ") == too_long
    assert errors(name="  abc  ") == too_long  # 3 once stripped, but 7 were sent


def test_text_is_stripped_after_validation() -> None:
    sample = Sample(name=" Blue", note="\u3000a note\n", label="\ufeffx\t")

    assert (sample.name, sample.note, sample.label) == ("Blue", "a note", "x")


def test_optional_text_without_a_min_length_may_be_blank() -> None:
    assert Sample(name="a", note="   ").note == ""


def test_required_text_in_a_union_is_not_blank_either() -> None:
    assert errors(name="a", label=" ") == [(("label",), "Value error, may not be blank")]
    assert Sample(name="a", label=None).label is None


def test_verbatim_text_is_kept_exactly_as_sent() -> None:
    assert Sample(name="a", secret=" pass ").secret == " pass "
    assert Sample(name="a", secret="   ").secret == "   "  # not blank-checked: every character counts


def test_nul_is_refused_even_in_verbatim_text() -> None:
    assert errors(name="a", secret="a\x00") == [(("secret",), "Value error, text may not contain the NUL character")]
    assert errors(name="a\x00") == [(("name",), "Value error, text may not contain the NUL character")]


def test_an_enum_member_stays_a_member() -> None:
    assert Sample(name="a", colour="red").colour is Colour.red


def test_the_document_says_what_the_validator_does() -> None:
    properties = Sample.model_json_schema()["properties"]

    assert properties["name"]["pattern"] == SOME_TEXT
    assert [branch.get("pattern") for branch in properties["label"]["anyOf"]] == [SOME_TEXT, None]
    assert [branch.get("pattern") for branch in properties["note"]["anyOf"]] == [InputModel.NO_NUL_PATTERN, None]
    assert properties["secret"]["pattern"] == InputModel.NO_NUL_PATTERN
    assert "pattern" not in properties["colour"]


@pytest.mark.parametrize("annotation", [list[str], dict[str, int], tuple[str, ...], list[str] | None])
def test_text_in_a_container_is_refused_when_the_model_is_defined(annotation: Any) -> None:
    # The cleaning looks at each field's value: text inside a list would pass uncleaned.
    with pytest.raises(TypeError, match="text in a container"):
        type("Tags", (InputModel,), {"__annotations__": {"tags": annotation}})
