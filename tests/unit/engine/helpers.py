"""Shared by the engine's tests: hand-built binlog bytes (the binlog package), a fake
server for the apply's visibility fence, and a reader of the Prometheus text format (the
metrics' unit and integration tests)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any


def _packed(n: int) -> bytes:
    """A length-encoded integer, as the binlog writes counts and lengths."""
    if n < 251:
        return bytes((n,))
    if n < 1 << 16:
        return b"\xfc" + n.to_bytes(2, "little")
    return b"\xfd" + n.to_bytes(3, "little")


def table_map_body(
    columns: Sequence[tuple[str, int, bytes, bool, bool]],
    *,
    schema: str = "app",
    table: str = "t",
    table_id: int = 77,
    names: bool = True,
    metadata: bytes = b"",
) -> bytes:
    """A TABLE_MAP body; columns are (name, type, raw metadata, nullable, unsigned);
    ``metadata``: more optional metadata fields (see :func:`field`)."""
    body = table_id.to_bytes(6, "little") + b"\x01\x00"
    for name in (schema, table):
        body += bytes((len(name),)) + name.encode() + b"\x00"
    body += _packed(len(columns)) + bytes(c[1] for c in columns)
    meta = b"".join(c[2] for c in columns)
    body += _packed(len(meta)) + meta
    nulls = sum(1 << i for i, c in enumerate(columns) if c[3])
    body += nulls.to_bytes((len(columns) + 7) // 8, "little")
    numeric = [c for c in columns if c[1] in (1, 2, 3, 4, 5, 8, 9, 13, 246)]
    bits = 0
    for i, c in enumerate(numeric):
        if c[4]:
            bits |= 0x80 >> (i % 8) << (8 * (i // 8))
    sign = bits.to_bytes((len(numeric) + 7) // 8 or 1, "little")
    body += b"\x01" + _packed(len(sign)) + sign
    if names:
        value = b"".join(_packed(len(c[0])) + c[0].encode() for c in columns)
        body += b"\x04" + _packed(len(value)) + value
    return body + metadata


def field(field_type: int, *numbers: int) -> bytes:
    """An optional metadata field whose value is a list of packed integers."""
    value = b"".join(_packed(n) for n in numbers)
    return bytes((field_type,)) + _packed(len(value)) + value


class FenceServer:
    """Just enough of a server for the visibility fence's session: the committed binlog
    position (``SHOW ... STATUS LIKE 'binlog_snapshot_%'``), the next of ``snapshots`` at
    each read (the last repeats), the binlog end, and the GTID statements (``owned``;
    ``GTID_SUBSET`` answers 1 from its ``executed_after``-th call on). Records every
    statement and its parameters."""

    def __init__(
        self,
        snapshots: Sequence[tuple[str, int]] = (("binlog.000001", 10**9),),
        *,
        end: tuple[str, int] = ("binlog.000001", 4),
        version: str = "10.11.19-MariaDB-log",
        owned: str = "",
        executed_after: int = 1,
    ):
        self.snapshots = list(snapshots)
        self.end = end
        self.version = version
        self.owned = owned
        self.executed_after = executed_after
        self.statements: list[tuple[str, list[Any]]] = []
        self._rows: list[tuple[Any, ...]] = []

    def cursor(self) -> FenceServer:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        self.statements.append((sql, list(params or [])))
        if "binlog_snapshot" in sql:
            file, pos = self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]
            self._rows = [("Binlog_snapshot_file", file), ("Binlog_snapshot_position", str(pos))]
        elif sql == "SELECT VERSION()":
            self._rows = [(self.version,)]
        elif sql == "SHOW MASTER STATUS":
            self._rows = [(self.end[0], self.end[1], "", "")]
        elif "gtid_owned" in sql:
            self._rows = [(self.owned,)]
        elif "GTID_SUBSET" in sql:
            checks = sum(1 for s, _ in self.statements if "GTID_SUBSET" in s)
            self._rows = [(1 if checks >= self.executed_after else 0,)]
        else:
            raise AssertionError(f"unexpected statement on the fence session: {sql}")
        return len(self._rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def close(self) -> None:
        pass

    def verbs(self) -> list[str]:
        return [sql.split()[0] for sql, _ in self.statements]


# -- the Prometheus text format, read back ---------------------------------------------------

PrometheusSample = tuple[str, dict[str, str], float]


def parse_prometheus(text: str) -> tuple[dict[str, tuple[str, str]], list[PrometheusSample]]:
    """A strict reader of the text exposition format 0.0.4 (what the tests need of it):
    family -> (type, help), and every sample as (name, labels, value). Raises
    ValueError on anything malformed, so a test fails on bad output."""
    families: dict[str, tuple[str, str]] = {}
    helps: dict[str, str] = {}
    samples: list[PrometheusSample] = []
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            name, _, help_text = line[len("# HELP ") :].partition(" ")
            helps[name] = help_text.replace("\\n", "\n").replace("\\\\", "\\")
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE ") :].partition(" ")
            if kind not in ("counter", "gauge", "summary", "histogram", "untyped"):
                raise ValueError(f"bad TYPE line: {line!r}")
            families[name] = (kind, helps.get(name, ""))
        elif line.startswith("#"):
            continue
        else:
            samples.append(_parse_sample(line))
    return families, samples


def _parse_sample(line: str) -> PrometheusSample:
    match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
    if match is None:
        raise ValueError(f"bad sample line: {line!r}")
    name, label_text, value = match.groups()
    labels: dict[str, str] = {}
    rest = (label_text or "{}")[1:-1]
    while rest:
        label = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="', rest)
        if label is None:
            raise ValueError(f"bad labels in {line!r}")
        i, chars = label.end(), []
        while rest[i] != '"':
            if rest[i] == "\\":
                i += 1
                chars.append({"n": "\n", "\\": "\\", '"': '"'}[rest[i]])
            else:
                chars.append(rest[i])
            i += 1
        labels[label.group(1)] = "".join(chars)
        rest = rest[i + 1 :]
        if rest.startswith(","):
            rest = rest[1:]
        elif rest:
            raise ValueError(f"bad labels in {line!r}")
    return name, labels, float(value)
