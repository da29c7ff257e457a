"""How account identifiers compare: look-alikes are one identifier.

`identity_key` is Unicode's NFKC_Casefold (UAX #15 / RFC 8265 style): the
compatibility forms fold to their plain letters (fullwidth "ada" is "ada", the "fi" ligature is
"fi", the Kelvin sign is "k") and case is folded fully ("Straße" is
"strasse"). Emails are stored in this form; usernames (ASCII by their pattern)
compare by it.
"""

from __future__ import annotations

import unicodedata


def identity_key(value: str) -> str:
    """The form two identifiers are compared in: equal keys are one account."""
    folded = unicodedata.normalize("NFKC", value.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)
