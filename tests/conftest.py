"""Test tiers: tests/unit needs no server; tests/integration needs a real MariaDB/MySQL."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.plugins.mariadb"]

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
