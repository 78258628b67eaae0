"""Metrics options set in ``settings.GHOST`` reach the migrations ``ghost_migrate`` runs:
gh-ost's StatsD lines arrive with the settings' tags and the Prometheus file is written."""

from __future__ import annotations

from pathlib import Path

from django.test.utils import override_settings

from tests.integration.helpers import StatsdListener
from tests.unit.engine.helpers import parse_prometheus

from .conftest import FORCE_ONLINE, DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"
TABLE = "testapp_item"
ROWS = 1000


def test_ghost_migrate__metrics_in_settings_ghost__statsd_lines_and_prometheus_file(
    dj: DjangoEnv, tmp_path: Path
) -> None:
    listener = StatsdListener()
    listener.start()
    prom = tmp_path / "ghost.prom"
    ghost = {
        **FORCE_ONLINE,
        "statsd_addr": f"127.0.0.1:{listener.port}",
        "statsd_tags": "env:django",
        "prometheus_file": str(prom),
    }
    try:
        with override_settings(MIGRATION_MODULES={"testapp": f"{FLOWS}.online"}, GHOST=ghost):
            dj.migrate("testapp", "0001_initial", command="migrate")
            dj.db.execute(
                f"INSERT INTO {TABLE} (name, qty) SELECT CONCAT('n', seq), seq FROM seq_1_to_{ROWS}"
            )
            dj.migrate("testapp")
    finally:
        listener.close()
    assert [r["status"] for r in dj.runs()] == ["done", "done"]
    startups = listener.named("startup")
    # One per online copy (AddField, then AddIndex), tagged with the settings' tags.
    assert len(startups) == 2
    for _, kind, tags in startups:
        assert kind == "c"
        assert tags == {"database": dj.db.name, "table": TABLE, "env": "django"}
    copied = [int(v) for v, _, _ in listener.named("row_copy.rows_copied")]
    assert copied and max(copied) == ROWS
    _, samples = parse_prometheus(prom.read_text())
    rows = [
        (labels, value)
        for name, labels, value in samples
        if name == "django_ghost_row_copy_rows_copied"
    ]
    assert rows == [({"database": dj.db.name, "table": TABLE, "env": "django"}, float(ROWS))]
