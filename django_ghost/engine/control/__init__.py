"""What an operator sees and steers while a migration runs: the control socket (server,
command language, socket plumbing, status texts), its client, and the assembly of
throttler, socket and hooks for one migration (operations.py)."""
