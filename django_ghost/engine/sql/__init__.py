"""Pure SQL helpers of the engine: quoting, ALTER parsing and helper-table names.

Everything here builds or reads statement text; nothing performs I/O, so every function
is unit-tested on strings alone.
"""

from __future__ import annotations

from .alter import ParsedAlter, parse_alter
from .quote import (
    MAX_IDENTIFIER_LENGTH,
    check_identifier,
    quote_columns,
    quote_identifier,
    quote_qualified,
    quote_string_literal,
)

__all__ = [
    "MAX_IDENTIFIER_LENGTH",
    "ParsedAlter",
    "check_identifier",
    "parse_alter",
    "quote_columns",
    "quote_identifier",
    "quote_qualified",
    "quote_string_literal",
]
