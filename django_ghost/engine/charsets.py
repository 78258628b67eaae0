"""gh-ost's ``--charset`` option: the list of connection character sets, parsed.

Below :mod:`.config` (which validates the option with it) and used by every connection
(mysql/connection.py, binlog/transport.py), which tries the charsets in order.
"""

from __future__ import annotations

from .errors import ConfigError

# The server refuses these as character_set_client: their characters are not ASCII-based.
NO_CLIENT_CHARSETS = frozenset({"ucs2", "utf16", "utf16le", "utf32"})


def parse_charsets(text: str) -> list[tuple[str, str]]:
    """gh-ost's ``--charset`` list (``utf8mb4,utf8,latin1``) as ``[(charset, collation)]``
    in the order connections try them; an item may be a collation (``utf8mb4_general_ci``),
    which names its charset. Empty text is utf8mb4. Raises ConfigError."""
    result = []
    for raw in (text or "utf8mb4").split(","):
        item = raw.strip().lower()
        if not item.replace("_", "").isalnum() or not item.isascii() or len(item) > 64:
            raise ConfigError(
                f"charset={text!r}: {raw.strip()!r} is not a character set or collation "
                "name; e.g. charset=utf8mb4 or charset=utf8mb4,utf8,latin1."
            )
        charset, _, rest = item.partition("_")
        if charset in NO_CLIENT_CHARSETS:
            raise ConfigError(
                f"charset={text!r}: {charset} cannot be a connection character set (the "
                "server refuses it for clients); use utf8mb4."
            )
        result.append((charset, item if rest else ""))
    return result
