"""`option.<Name>=<value>` filters of the product list: query parameters whose names are the data.

OpenAPI cannot declare a parameter per option name, so the list operation's
description states them, and this module checks them as a declared parameter
would be checked (422 `validation_error` naming the parameter).
"""

from __future__ import annotations

import re

from fastapi.exceptions import RequestValidationError
from starlette.datastructures import QueryParams

from storefront.catalog.schemas import MAX_OPTIONS

PREFIX = "option."
_TEXT = re.compile(r'[^\x00-\x1f\x7f"\\]{1,50}')

OPTION_FILTERS = """Browse the catalog with filters, text search, sorting and paging.

**Option filters**: `option.<Name>=<value>` (for example `option.Size=M&option.Colour=Blue`)
keeps the products with a variant for sale that has every one of these values;
with them, `in_stock` is about that variant. Names and values are 1..50 characters
(no control character, quote or backslash), at most 3 options, one value each."""


def option_filters(query: QueryParams) -> dict[str, str]:
    """The `option.<Name>=<value>` pairs of a query string; 422 for a malformed one."""
    found: dict[str, str] = {}
    for key, value in query.multi_items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :]
        if not _TEXT.fullmatch(name) or not _TEXT.fullmatch(value):
            _refuse(key, "an option name and value are 1..50 characters, without control characters, quotes or \\")
        if name in found:
            _refuse(key, "one value per option")
        found[name] = value
    if len(found) > MAX_OPTIONS:
        _refuse(PREFIX + "*", f"at most {MAX_OPTIONS} option filters")
    return found


def _refuse(key: str, message: str) -> None:
    raise RequestValidationError([{"type": "value_error", "loc": ("query", key[:100]), "msg": message}])
