"""Binary-log reading. The only package allowed to import pymysqlreplication.

- events.py / reader.py: our event types and the BinlogReader protocol the engine uses;
- stream.py: BinlogStream, the real reader (transport.py: the dump connection;
  tablemap.py, rows.py, values.py: decoding); coordinates.py: server positions.
"""
