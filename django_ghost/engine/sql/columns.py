"""Column: the SQL type facts of one column, as information_schema gives them.

A plain value: the statement builders (builder.py) choose casts and comparisons by it, and
table/info.py reads it from the server.
"""

from __future__ import annotations

import dataclasses

INTEGER_TYPES = ("tinyint", "smallint", "mediumint", "int", "bigint")
TEMPORAL_TYPES = ("date", "datetime", "timestamp", "time", "year")
STRING_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")
BINARY_TYPES = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    ordinal: int
    data_type: str
    column_type: str
    nullable: bool
    charset: str | None
    collation: str | None
    generated: bool
    octet_length: int | None
    numeric_precision: int | None
    numeric_scale: int | None
    datetime_precision: int | None

    @property
    def unsigned(self) -> bool:
        return "unsigned" in self.column_type.lower()

    @property
    def is_string(self) -> bool:
        return self.data_type in STRING_TYPES and self.charset is not None

    @property
    def is_binary_string(self) -> bool:
        return self.data_type in BINARY_TYPES
