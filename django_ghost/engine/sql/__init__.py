"""Pure SQL helpers of the engine: quoting, ALTER parsing and helper-table names.

Everything here builds or reads statement text; nothing performs I/O, so every function
is unit-tested on strings alone.
"""

from __future__ import annotations

from .alter import ParsedAlter, parse_alter
from .names import (
    DEFAULT_TEMPLATES,
    HelperTable,
    TableNames,
    is_helper_table,
    match_helper_table,
    original_table_of,
    table_names,
)
from .quote import (
    MAX_IDENTIFIER_LENGTH,
    check_identifier,
    quote_columns,
    quote_identifier,
    quote_qualified,
    quote_string_literal,
)

__all__ = [
    "DEFAULT_TEMPLATES",
    "MAX_IDENTIFIER_LENGTH",
    "HelperTable",
    "ParsedAlter",
    "TableNames",
    "check_identifier",
    "is_helper_table",
    "match_helper_table",
    "original_table_of",
    "parse_alter",
    "quote_columns",
    "quote_identifier",
    "quote_qualified",
    "quote_string_literal",
    "table_names",
]
