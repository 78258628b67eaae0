"""Migration flows of the test app, one package per flow (chosen with MIGRATION_MODULES)."""
