"""The test tiers' rules, checked without a server: a missing server fails the tests
that need it (never skips them, on any machine), and leaving a tier out is a marker
chosen on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_ghost.sandbox import SandboxError
from tests.conftest import INTEGRATION_DIR, tier_markers
from tests.plugins.mariadb import NO_REPLICA_REMEDY, replica_dsn, unavailable


@pytest.mark.parametrize("ci", [None, "true"])
def test_unavailable__with_or_without_ci__fails_naming_the_explicit_way_out(
    monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception) as failed:
        unavailable("the sandbox server did not start: no mariadbd")
    message = str(failed.value)
    assert "no mariadbd" in message
    assert "make unit" in message and "GHOST_TEST_DSN" in message


def test_unavailable__outcome__is_not_a_skip() -> None:
    with pytest.raises(BaseException) as outcome:
        unavailable("x")
    assert not isinstance(outcome.value, pytest.skip.Exception)


def test_replica_dsn__replica_dsn_set__used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHOST_TEST_REPLICA_DSN", "mysql://u:p@replica:3307/")
    assert replica_dsn(None) == "mysql://u:p@replica:3307/"


def test_replica_dsn__server_dsn_without_replica_dsn__fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GHOST_TEST_REPLICA_DSN", raising=False)
    with pytest.raises(pytest.fail.Exception) as failed:
        replica_dsn(None)
    assert "GHOST_TEST_REPLICA_DSN is not" in str(failed.value)
    assert NO_REPLICA_REMEDY in str(failed.value)


class _SandboxWithoutReplica:
    replica = None

    def add_replica(self) -> None:
        raise SandboxError("the replica did not start: port in use")


def test_replica_dsn__sandbox_replica_cannot_start__fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GHOST_TEST_REPLICA_DSN", raising=False)
    with pytest.raises(pytest.fail.Exception) as failed:
        replica_dsn(_SandboxWithoutReplica())  # type: ignore[arg-type]
    assert "port in use" in str(failed.value) and "not replica" in str(failed.value)


def test_tier_markers__integration_test_using_replica__both_markers() -> None:
    path = INTEGRATION_DIR / "engine" / "test_topology.py"
    assert tier_markers(path, ["db", "replica_server"]) == ["integration", "replica"]
    assert tier_markers(path, ["db"]) == ["integration"]


def test_tier_markers__unit_test__none() -> None:
    path = Path(__file__)
    assert tier_markers(path, ["monkeypatch"]) == []
