"""What ghost_migrate shows while it works: at verbosity 1 and up, a progress bar per online
table (rich, on stderr) that ends at 100% and "done", and a summary line per online run on
stdout. The other Django tests run at verbosity 0, where neither is drawn."""

from __future__ import annotations

import io
import re

import pytest
from django.test.utils import override_settings

from .conftest import FORCE_ONLINE, DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"
TABLE = "testapp_item"
ROWS = 3000
# The bar's final line: table, bar, percent, rows done/total, rate, time left, lag, state.
FINAL_BAR = re.compile(rf"^{TABLE} \S+ +100% {ROWS}/{ROWS} [\d,]+ rows/s .* done$", re.M)
SUMMARY = re.compile(
    rf"^  testapp\.0002_online `{TABLE}`: {ROWS} rows copied, \d+ binlog events applied, "
    r"[\d.]+s, checksum verified$",
    re.M,
)


@pytest.mark.parametrize("verbosity", [1, 2])
def test_ghost_migrate__verbosity_one_and_two__bar_ends_done_and_summary_printed(
    dj: DjangoEnv,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    verbosity: int,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich's width off a terminal: no squeezed columns
    flow = {"testapp": f"{FLOWS}.online"}
    with override_settings(MIGRATION_MODULES=flow, GHOST=FORCE_ONLINE):
        dj.migrate("testapp", "0001_initial", command="migrate")
        dj.db.execute(
            f"INSERT INTO {TABLE} (name, qty) SELECT CONCAT('n', seq), seq FROM seq_1_to_{ROWS}"
        )
        capsys.readouterr()
        out = io.StringIO()
        dj.migrate("testapp", stdout=out, verbosity=verbosity, chunk_size=250)
    err = capsys.readouterr().err
    assert FINAL_BAR.search(err), err
    # Two online copies (AddField, then AddIndex) share the table's bar; nothing else is
    # drawn, and nothing stays at a mid-copy state.
    bars = [line for line in err.splitlines() if line.startswith(TABLE)]
    assert bars and all(FINAL_BAR.match(line) for line in bars), err
    text = out.getvalue()
    assert "Applying testapp.0002_online... OK" in text
    assert text.count("Online migrations:") == 1
    assert len(SUMMARY.findall(text)) == 2, text
    if verbosity == 2:
        assert "Running post-migrate handlers for application testapp" in text


def test_ghost_migrate__verbosity_zero__no_bar_no_summary(
    dj: DjangoEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = {"testapp": f"{FLOWS}.online"}
    with override_settings(MIGRATION_MODULES=flow, GHOST=FORCE_ONLINE):
        dj.migrate("testapp", "0001_initial", command="migrate")
        dj.db.execute(f"INSERT INTO {TABLE} (name, qty) VALUES ('a', 1)")
        capsys.readouterr()
        out = io.StringIO()
        dj.migrate("testapp", stdout=out, verbosity=0)
    assert capsys.readouterr().err == ""
    assert out.getvalue() == ""
    assert [r["status"] for r in dj.runs()] == ["done", "done"]
