"""Where a migration runs: the preflight steps and checks of server and table, discovery
of primary and replicas, the replica steps, the switch to row-based binlogs."""
