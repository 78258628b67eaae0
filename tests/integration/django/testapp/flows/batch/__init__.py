"""Migrations with several ALTERs of one table, for the batch="migration" tests: 0002
relies on the setting, 0003 starts with the GhostBatch operation."""
