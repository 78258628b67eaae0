"""System check messages from server facts."""

from __future__ import annotations

import dataclasses

from django_ghost.checks import ServerFacts, evaluate, missing_privileges

GOOD = ServerFacts(
    True, "ROW", "FULL", "10.11.6-MariaDB", ("GRANT ALL PRIVILEGES ON *.* TO `g`@`%`",)
)


def _ids(facts: ServerFacts) -> list[str]:
    return [m.id for m in evaluate("default", facts)]


def test_evaluate__good_server__no_messages() -> None:
    assert _ids(GOOD) == []


def test_evaluate__binlog_off_statement_minimal__three_errors_with_hints() -> None:
    facts = ServerFacts(False, "STATEMENT", "MINIMAL", "10.11.6-MariaDB", GOOD.grants)
    messages = evaluate("default", facts)
    assert [m.id for m in messages] == [
        "django_ghost.E001",
        "django_ghost.E002",
        "django_ghost.E003",
    ]
    assert all(m.hint for m in messages)


def test_evaluate__old_mysql__warning() -> None:
    facts = ServerFacts(True, "ROW", "FULL", "5.7.44-log", GOOD.grants)
    assert _ids(facts) == ["django_ghost.W001"]


def test_missing_privileges__only_table_grants__both_missing() -> None:
    grants = ["GRANT USAGE ON *.* TO `app`@`%`", "GRANT ALL PRIVILEGES ON `shop`.* TO `app`@`%`"]
    assert missing_privileges(grants) == ["REPLICATION SLAVE", "REPLICATION CLIENT"]


def test_missing_privileges__mariadb_binlog_monitor__satisfied() -> None:
    grants = ["GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `app`@`%`"]
    assert missing_privileges(grants) == []


def test_evaluate__binlog_row_metadata_minimal__e006_with_hint() -> None:
    facts = dataclasses.replace(GOOD, binlog_row_metadata="MINIMAL")
    messages = evaluate("default", facts)
    assert [m.id for m in messages] == ["django_ghost.E006"]
    assert "binlog_row_metadata = 'FULL'" in str(messages[0].hint)


def test_evaluate__binlog_row_metadata_full_or_unknown__no_message() -> None:
    for value in ("FULL", ""):
        assert _ids(dataclasses.replace(GOOD, binlog_row_metadata=value)) == []
