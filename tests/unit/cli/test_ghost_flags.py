"""Every flag of gh-ost's command line (ghost_flags.txt, taken from gh-ost's --help) is
accepted by django-ghost's parser and listed in --help and docs/cli.md, or refused by
name with a reason that docs/cli.md lists too."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pytest

from django_ghost.cli.args import UsageError, parse_args
from django_ghost.cli.flags import (
    CLI_ONLY_FLAGS,
    GHOST_FLAGS,
    NO_EFFECT_FLAGS,
    all_flags,
    option_flags,
    rejected_flags,
)
from django_ghost.cli.main import main

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[2] / "docs" / "cli.md"
GH_OST_FLAGS = [
    line.strip()
    for line in (HERE / "ghost_flags.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
DUMMY = {"bool": None, "int": "1", "float": "1", "str": "x"}


@functools.cache
def _help() -> str:
    out = io.StringIO()
    assert main(["--help"], stdout=out, stderr=io.StringIO(), environ={}) == 0
    return out.getvalue()


def test_ghost_flags_list__read__the_whole_gh_ost_command_line() -> None:
    assert len(GH_OST_FLAGS) == len(set(GH_OST_FLAGS)) >= 100
    assert {"alter", "execute", "chunk-size", "gtid", "assume-rbr"} <= set(GH_OST_FLAGS)


@pytest.mark.parametrize("flag", GH_OST_FLAGS)
def test_gh_ost_flag__parsed__accepted_or_refused_with_documented_reason(flag: str) -> None:
    doc = DOC.read_text()
    refused = rejected_flags()
    if flag in refused:
        with pytest.raises(UsageError) as raised:
            parse_args([f"--{flag}=x"])
        why = refused[flag]
        assert str(raised.value) == f"gh-ost flag --{flag} is not supported by django-ghost: {why}."
        assert f"| `--{flag}` | {why} |" in doc
        return
    accepted = all_flags()
    assert flag in accepted, f"--{flag} is neither accepted nor refused"
    value = DUMMY[accepted[flag].kind]
    argv = [f"--{flag}"] if value is None else [f"--{flag}={value}"]
    inv = parse_args(argv)
    assert inv.given == [flag]
    assert f"| `--{flag}` |" in doc
    assert f"  --{flag}" in _help()


def test_help__refused_flags__all_listed() -> None:
    refused_part = _help().split("gh-ost flags not supported")[1]
    for flag in rejected_flags():
        assert f"--{flag}" in refused_part


def test_ghost_flags_table__every_entry__a_gh_ost_flag_whose_reason_is_shown() -> None:
    # An entry shadowed by an option (or by a flag of the command) could never be shown.
    assert set(GHOST_FLAGS) <= set(GH_OST_FLAGS)
    assert not set(GHOST_FLAGS) & set(all_flags())
    assert set(rejected_flags()) == set(GHOST_FLAGS)


def test_no_effect_flags__each__gh_ost_flag_not_an_option() -> None:
    assert set(NO_EFFECT_FLAGS) <= set(GH_OST_FLAGS)
    assert not set(NO_EFFECT_FLAGS) & (set(option_flags()) | set(CLI_ONLY_FLAGS))
