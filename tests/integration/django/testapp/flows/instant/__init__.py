"""An ALTER MariaDB does with ALGORITHM=INSTANT (nullable AddField), then one it cannot
(AddIndex), for the instant-route test."""
