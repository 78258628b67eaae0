"""Binary-log reading. The only package allowed to import pymysqlreplication.

- events.py / reader.py: our event types and the BinlogReader protocol the engine uses;
- stream.py: BinlogStream, the real reader (transport.py: the dump connection;
  tablemap.py, rows.py, values.py: decoding); coordinates.py: server positions.
"""

from .coordinates import binlog_file_exists, binlog_status_statement, current_position
from .events import BinlogEvent, BinlogPosition, RowChange, SchemaChange, TransactionEnd
from .reader import BinlogReader, FakeBinlogReader, WatchSpec
from .stream import BinlogStream

__all__ = [
    "BinlogEvent",
    "BinlogPosition",
    "BinlogReader",
    "BinlogStream",
    "FakeBinlogReader",
    "RowChange",
    "SchemaChange",
    "TransactionEnd",
    "WatchSpec",
    "binlog_file_exists",
    "binlog_status_statement",
    "current_position",
]
