"""Django-side unit tests: no server."""
