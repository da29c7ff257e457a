"""What the document says of stripped text is what the API checks."""

from __future__ import annotations

import re
import sys

import pytest

from storefront.kit.schemas import WHITESPACE, stripped_length_pattern


def test_the_whitespace_class_is_what_strip_removes() -> None:
    cls = re.compile(f"[{WHITESPACE}]")
    stripped = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}

    assert {chr(c) for c in range(sys.maxunicode + 1) if cls.fullmatch(chr(c))} == stripped


@pytest.mark.parametrize("minimum", [1, 2, 3, 8])
@pytest.mark.parametrize(
    "text", ["", " ", "a", " a ", "ab", "a b", "\u3000ab\u3000", "a\x00b", "  abc  ", "abcdefgh", " abcdefg ", "\x1cab"]
)
def test_the_pattern_admits_exactly_what_survives_stripping(minimum: int, text: str) -> None:
    admitted = re.fullmatch(stripped_length_pattern(minimum), text) is not None

    assert admitted == (len(text.strip()) >= minimum and "\x00" not in text)
