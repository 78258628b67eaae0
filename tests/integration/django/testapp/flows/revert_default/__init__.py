"""A table shaped for tests/integration/helpers.py's Mix (id, v, w), and one online
AddField of a nullable column (writers of the old schema keep working after it), for
the revert route of a backward migration."""
