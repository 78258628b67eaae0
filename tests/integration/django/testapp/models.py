"""No models: each flow's migrations carry the state (MIGRATION_MODULES picks the flow)."""
