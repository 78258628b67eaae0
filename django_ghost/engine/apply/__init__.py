"""The binlog apply: the streamer queues per-key changes read from the binlog, the applier
brings each changed key of the ghost table to the original's current row, and streaming.py
holds the running pair and gives the migrator its turns of applying."""
