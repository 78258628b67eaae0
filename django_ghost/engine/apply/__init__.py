"""The binlog apply: the streamer queues per-key changes read from the binlog, the applier
brings each changed key of the ghost table to the original's current row."""
