"""Run the example project's commands against the ``db`` fixture's database.

The commands run as subprocesses of ``example_project/manage.py`` with ``DATABASE_URL``
pointing at the test's fresh database. That keeps Django's settings out of the test
process entirely, so nothing here affects other tests' Django configuration, and the
commands are exercised exactly as a user runs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLE_PROJECT = Path(__file__).resolve().parents[3] / "example_project"
if str(EXAMPLE_PROJECT) not in sys.path:
    sys.path.append(str(EXAMPLE_PROJECT))

Manage = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def manage(db: Any) -> Manage:
    """``manage("seed_shop", "--orders", "10")`` against ``db``; returns the finished process."""
    server = db.server
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GHOST_")},
        "DATABASE_URL": (
            f"mysql://{server.user}:{server.password}@{server.host}:{server.port}/{db.name}"
        ),
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
    }

    def run(*args: str, check: bool = True, timeout: float = 120) -> Any:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=EXAMPLE_PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            pytest.fail(f"manage.py {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

    return run


def last_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON summary the command prints as its last line."""
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture
def shop_schema(manage: Manage) -> Manage:
    """``db`` with the shop's tables (all migrations applied)."""
    manage("migrate", "shop", "-v0")
    return manage
