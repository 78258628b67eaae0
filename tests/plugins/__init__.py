"""Pytest fixture plugins, grouped by concern."""
