"""Make the example project's ``shop`` package importable (its pure modules need no Django)."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLE_PROJECT = Path(__file__).resolve().parents[3] / "example_project"
if str(EXAMPLE_PROJECT) not in sys.path:
    sys.path.append(str(EXAMPLE_PROJECT))
