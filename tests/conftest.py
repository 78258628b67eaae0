"""Test tiers: tests/unit needs no server; tests/integration needs a real MariaDB/MySQL.

Every test under tests/integration is marked ``integration`` and every test that uses
the ``replica_server`` fixture ``replica``, so that leaving them out is a choice made on
the command line (``-m "not integration"``, ``-m "not replica"``), never a silent skip:
tests/plugins/mariadb.py fails the tests whose server cannot be had.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

pytest_plugins = ["tests.plugins.mariadb"]

INTEGRATION_DIR = Path(__file__).parent / "integration"


def tier_markers(path: Path, fixturenames: Sequence[str]) -> list[str]:
    """The tier markers of a test in ``path`` that uses ``fixturenames``."""
    markers = []
    if INTEGRATION_DIR in path.parents:
        markers.append("integration")
    if "replica_server" in fixturenames:
        markers.append("replica")
    return markers


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in tier_markers(Path(str(item.fspath)), getattr(item, "fixturenames", ())):
            item.add_marker(marker)
