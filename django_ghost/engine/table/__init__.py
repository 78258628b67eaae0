"""What the tables look like (info.py), how the copy maps one onto the other (plan.py),
and the changelog table the engine writes and reads back from the binlog."""
