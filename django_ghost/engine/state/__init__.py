"""What outlives one process: helper tables, checkpoints, resume of a killed run, and the
one policy for cleaning up leftovers."""
