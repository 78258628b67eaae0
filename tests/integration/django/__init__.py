"""Django-side integration tests: call_command against the sandbox server."""
