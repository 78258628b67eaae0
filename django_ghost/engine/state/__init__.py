"""What a run leaves behind and what outlives one process: the resources a run releases,
helper tables, checkpoints, resume of a killed run, and the one policy for cleaning up
leftovers."""
