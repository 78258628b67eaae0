"""A table shaped for tests/integration/helpers.py's Mix (id, v, w; explicit keys that
writers move), and one online AddField, for the two-step cut-over test."""
