"""Connections to MySQL/MariaDB and the facts read from the server."""
