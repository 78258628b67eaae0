"""Where a migration runs: discovery of primary and replicas, the replica steps, the switch
to row-based binlogs, and the preflight inspection of server and table."""
