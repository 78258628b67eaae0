"""The admin's history page after a real online migration, rendered by Django's test client.

The oracle is the history table itself, read with SQL: the changelist must show each of
its rows (table, migration, status, rows copied, events applied) and a run's page its
statements, as a logged-in superuser sees them.
"""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import override_settings

from .conftest import FORCE_ONLINE, DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"
TABLE = "testapp_item"
ROWS = 300
CHANGELIST = "/admin/django_ghost/onlinerun/"
SHOWN = ("table_name", "migration", "status", "rows_copied", "events_applied", "alias")


class ResultRows(HTMLParser):
    """The cells of the changelist's result table: one {field: text} per row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._field: str | None = None
        self._in_results = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "table" and attributes.get("id") == "result_list":
            self._in_results = True
        elif self._in_results and tag == "tr":
            self.rows.append({})
        elif self._in_results and tag in ("td", "th"):
            fields = [c.removeprefix("field-") for c in classes if c.startswith("field-")]
            self._field = fields[0] if fields else None

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._field = None
        elif tag == "table":
            self._in_results = False

    def handle_data(self, data: str) -> None:
        if self._field and self.rows:
            row = self.rows[-1]
            row[self._field] = (row.get(self._field, "") + data).strip()


def result_rows(html: str) -> list[dict[str, str]]:
    parser = ResultRows()
    parser.feed(html)
    return [row for row in parser.rows if row]  # the header row has no field cells


def history(dj: DjangoEnv) -> list[dict[str, Any]]:
    cols = ("id", *SHOWN, "statements")
    rows = dj.db.query(
        f"SELECT {', '.join(cols)} FROM django_ghost_onlinerun ORDER BY started_at DESC, id DESC"
    )
    return [dict(zip(cols, row, strict=True)) for row in rows]


def test_admin__after_online_migration__changelist_and_run_page_show_the_history(
    dj: DjangoEnv,
) -> None:
    flow = {"testapp": f"{FLOWS}.online"}
    with override_settings(MIGRATION_MODULES=flow, GHOST=FORCE_ONLINE):
        for app in ("contenttypes", "auth", "sessions", "admin"):
            dj.migrate(app, command="migrate")
        dj.migrate("testapp", "0001_initial", command="migrate")
        dj.db.execute(
            f"INSERT INTO {TABLE} (name, qty) SELECT CONCAT('n', seq), seq FROM seq_1_to_{ROWS}"
        )
        dj.migrate("testapp")
        get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss")
        client = Client()
        assert client.get(CHANGELIST).status_code == 302, "the history is not public"
        assert client.login(username="boss", password="pw-boss")
        listing = client.get(CHANGELIST)
        runs = history(dj)
        pages = [client.get(f"{CHANGELIST}{run['id']}/change/") for run in runs]
    assert listing.status_code == 200
    assert len(runs) == 2 and {r["status"] for r in runs} == {"done"}, runs
    shown = [{f: row.get(f) for f in SHOWN} for row in result_rows(listing.content.decode())]
    expected = [{f: str(run[f]) for f in SHOWN} for run in runs]
    assert shown == expected
    assert all(run["rows_copied"] == ROWS for run in runs)
    assert "2 online migration runs" in listing.content.decode()
    for run, page in zip(runs, pages, strict=True):
        assert page.status_code == 200
        html = page.content.decode()
        text = unescape(html)
        for value in (TABLE, "testapp.0002_online", str(ROWS), "done", run["statements"]):
            assert value in text, value
        assert 'name="_save"' not in html, "the history must be read-only"
