"""engine.state.cleanup without a server: lock names, socket discovery, formatting, and
the clean-up policy both front ends follow (plan, confirmation, template sets)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import ConfigError
from django_ghost.engine.sql.names import DEFAULT_TEMPLATES, migration_lock_name
from django_ghost.engine.state.cleanup import confirmed, plan_cleanup, template_sets
from django_ghost.engine.state.leftovers import Leftover, format_leftovers, stale_sockets


def test_migration_lock_name__short__readable() -> None:
    assert migration_lock_name("shop", "orders") == "django-ghost.shop.orders"


def test_migration_lock_name__over_64__hashed_like_the_migrator() -> None:
    name = migration_lock_name("d" * 30, "t" * 40)
    full = f"django-ghost.{'d' * 30}.{'t' * 40}"
    assert name == "django-ghost." + hashlib.sha1(full.encode()).hexdigest()
    assert len(name) <= 64


def test_stale_sockets__dead_and_live__only_dead_listed(tmp_path: Path) -> None:
    dead = tmp_path / "django-ghost.shop.orders.sock"
    live = tmp_path / "django-ghost.shop.items.sock"
    other = tmp_path / "django-ghost.other.x.sock"
    for path in (dead, live, other):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(path))
        s.close()
    (tmp_path / "django-ghost.shop.plain.sock").write_text("not a socket")
    found = stale_sockets("shop", directory=str(tmp_path), is_live=lambda p: p == str(live))
    assert [(f.kind, f.name, f.table) for f in found] == [("socket", str(dead), "orders")]


def test_format_leftovers__rows__aligned_with_units() -> None:
    text = format_leftovers(
        [
            Leftover("ghost", "_t_gho", "t", 30.0, 2048, 10),
            Leftover("socket", "/tmp/x.sock", None, 9000.0, None),
        ]
    )
    lines = text.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "TABLE", "AGE", "SIZE", "ROWS"]
    assert lines[1].split() == ["ghost", "_t_gho", "t", "30s", "2.0", "KiB", "10"]
    assert lines[2].split() == ["socket", "/tmp/x.sock", "?", "2h", "-", "-"]


def test_leftover__old_table__needs_asking() -> None:
    assert not Leftover("old", "_t_del", "t", None, None).droppable_without_asking
    assert Leftover("sentry", "_t_del", "t", None, None).droppable_without_asking


def test_find_leftovers__two_templates__config_error() -> None:
    from django_ghost.engine.state.leftovers import find_leftovers

    with pytest.raises(ConfigError, match="ghost, changelog and old"):
        find_leftovers(None, "db", templates=("_{table}_gho", "_{table}_ghc"))


LEFT = [
    Leftover("ghost", "_t_gho", "t", 60.0, 2048, 10),
    Leftover("changelog", "_t_ghc", "t", 60.0, 2048, 2),
    Leftover("old", "_t_del", "t", 60.0, 4096, 100),
    Leftover("sentry", "t~d", "t", 60.0, 0, 0),
    Leftover("ghost", "_u_gho", "u", 60.0, 2048, 10),
    Leftover("ghost", "t", "t", 60.0, 2048, 10),
]


def test_plan_cleanup__without_drop_old__old_table_kept_and_said() -> None:
    plan = plan_cleanup(LEFT, "t", drop_old=False)
    assert [i.name for i in plan.drop] == ["_t_gho", "_t_ghc", "t~d"]
    assert [i.name for i in plan.keep] == ["_t_del"]
    assert plan.notices() == [
        "Keeping old table _t_del (it may hold the previous data); --drop-old drops it."
    ]
    assert plan.prompt() == "Drop _t_gho, _t_ghc, t~d? [y/N] "


def test_plan_cleanup__drop_old__old_table_dropped_too() -> None:
    plan = plan_cleanup(LEFT, "t", drop_old=True)
    assert [i.name for i in plan.drop] == ["_t_gho", "_t_ghc", "_t_del", "t~d"]
    assert plan.keep == () and plan.notices() == []


def test_plan_cleanup__only_old_table__nothing_else_to_clean_up() -> None:
    plan = plan_cleanup(LEFT[2:3], "t", drop_old=False)
    assert plan.drop == ()
    assert plan.notices()[-1] == "Nothing else to clean up for 't'."
    assert plan_cleanup(LEFT, "v", drop_old=True).notices() == ["Nothing to clean up for 'v'."]


@pytest.mark.parametrize(("answer", "expected"), [("y", True), (" YES\n", True), ("n", False)])
def test_confirmed__answer__only_y_or_yes_confirms(answer: str, expected: bool) -> None:
    plan = plan_cleanup(LEFT, "t", drop_old=False)
    asked: list[str] = []
    assert confirmed(plan, yes=False, ask=lambda p: asked.append(p) or answer) is expected
    assert asked == [plan.prompt()]


def test_confirmed__yes_or_end_of_input__not_asked_or_refused() -> None:
    plan = plan_cleanup(LEFT, "t", drop_old=False)

    def end_of_input(prompt: str) -> str:
        raise EOFError

    assert confirmed(plan, yes=True, ask=end_of_input)
    assert not confirmed(plan, yes=False, ask=end_of_input)


def test_template_sets__custom_templates__configured_then_defaults() -> None:
    custom = GhostConfig(
        ghost_table_template="~{table}_gho",
        changelog_table_template="~{table}_ghc",
        old_table_template="~{table}_del",
    )
    assert template_sets(custom) == [
        ("~{table}_gho", "~{table}_ghc", "~{table}_del"),
        DEFAULT_TEMPLATES,
    ]
    assert template_sets(GhostConfig()) == [DEFAULT_TEMPLATES]
