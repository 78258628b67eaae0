"""docs/settings.md documents every option, with its environment variable names."""

from __future__ import annotations

import re
from pathlib import Path

from django_ghost.conf import PER_RUN_OPTIONS, all_option_names

DOCS = Path(__file__).resolve().parents[3] / "docs" / "settings.md"


def _sections() -> dict[str, str]:
    text = DOCS.read_text()
    parts = re.split(r"^### `([a-z_]+)`\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_settings_doc__every_option__has_a_section() -> None:
    missing = set(all_option_names()) - set(_sections())
    assert not missing, f"options missing from docs/settings.md: {sorted(missing)}"


def test_settings_doc__no_stale_sections() -> None:
    stale = set(_sections()) - set(all_option_names())
    assert not stale, f"docs/settings.md documents unknown options: {sorted(stale)}"


def test_settings_doc__each_section__names_type_default_and_env_vars() -> None:
    for name, body in _sections().items():
        assert "type:" in body and "default:" in body, name
        if name not in PER_RUN_OPTIONS:
            assert f"GHOST_{name.upper()}" in body, name
            assert f"GHOST_<ALIAS>__{name.upper()}" in body, name
