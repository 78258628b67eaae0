"""Verification by key (verify/keyed.py, apply/touched.py): the option, the set of keys
the apply touched, the bisection that narrows a differing batch down to its keys, and the
verifier's background turns and its check under the cut-over lock, against a fake pair of
tables that answers the comparison statement from Python dicts."""

from __future__ import annotations

import queue
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from django_ghost.engine.apply import touched as touched_module
from django_ghost.engine.apply.applier import Applier
from django_ghost.engine.apply.fence import SnapshotProbe, VisibilityFence
from django_ghost.engine.apply.streamer import Committed, KeyChange, Streamer, StreamItem
from django_ghost.engine.apply.touched import NewestEvents, TouchedKeys
from django_ghost.engine.binlog.events import BinlogPosition, RowChange
from django_ghost.engine.config import GhostConfig, merge_layers
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.cutover.attempts import CutOverVerificationFailed, retry
from django_ghost.engine.cutover.two_step import TwoStepAttempt
from django_ghost.engine.errors import ConfigError, CutOverError
from django_ghost.engine.sql.builder import KeyColumn
from django_ghost.engine.sql.columns import Column
from django_ghost.engine.table.info import TableInfo, UniqueKey
from django_ghost.engine.table.plan import build_plan
from django_ghost.engine.verify import keyed
from django_ghost.engine.verify.keyed import (
    BATCH,
    KeysDiffer,
    KeyVerifier,
    describe_keys,
    narrow,
    newest,
)

from .helpers import FenceServer

# -- the option ----------------------------------------------------------------------------


def test_config_verify_applied_keys__default__on() -> None:
    assert GhostConfig().validate().verify_applied_keys is True


def test_config_verify_applied_keys__string_layer__parsed_as_bool() -> None:
    config, origin = merge_layers([("env", {"VERIFY_APPLIED_KEYS": "false"})])
    assert config.verify_applied_keys is False
    assert origin["verify_applied_keys"] == "env"


def test_config_count_check__removed__refused_as_unknown() -> None:
    with pytest.raises(ConfigError, match="Unknown django_ghost option"):
        merge_layers([("env", {"cut_over_count_check_max_rows": "0"})])


# -- the set of touched keys -----------------------------------------------------------------


def at(pos: int, file: str = "binlog.000001") -> BinlogPosition:
    return BinlogPosition(file, pos)


def test_touched_keys__take__oldest_first_with_positions() -> None:
    keys = TouchedKeys()
    keys.add([(1,), (2,)], at(10))
    keys.add([(3,)], at(20))

    assert keys.take(2) == [((1,), at(10)), ((2,), at(10))]
    assert len(keys) == 1 and (3,) in keys and (1,) not in keys


def test_touched_keys__added_again__moves_to_the_end_with_its_new_position() -> None:
    keys = TouchedKeys()
    keys.add([(1,), (2,)], at(10))
    keys.add([(1,)], at(30))

    assert keys.take_all() == [((2,), at(10)), ((1,), at(30))]
    assert len(keys) == 0


def test_touched_keys__put_back__keeps_a_newer_entry() -> None:
    keys = TouchedKeys()
    keys.add([(1,), (2,)], at(10))
    taken = keys.take(2)
    keys.add([(2,)], at(50))

    keys.put_back(taken)

    assert sorted(keys.take_all()) == [((1,), at(10)), ((2,), at(50))]


def test_touched_keys__discard_and_clear__forget_keys() -> None:
    keys = TouchedKeys()
    keys.add([(1,), (2,), (3,)], None)
    keys.discard([(2,), (9,)])
    assert [k for k, _ in keys.take_all()] == [(1,), (3,)]
    keys.add([(4,)], None)
    keys.clear()
    assert len(keys) == 0


def test_touched_keys__over_cap__when_above_the_soft_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(touched_module, "SOFT_CAP", 3)
    keys = TouchedKeys()
    keys.add([(1,), (2,), (3,)], None)
    assert not keys.over_cap
    keys.add([(4,)], None)
    assert keys.over_cap


def test_newest__positions_across_files__furthest_by_file_number() -> None:
    entries = [((1,), at(900, "binlog.999999")), ((2,), at(4, "binlog.1000000")), ((3,), None)]
    assert newest(entries) == at(4, "binlog.1000000")
    assert newest([((1,), None)]) is None


def test_describe_keys__many__first_five_and_how_many_more() -> None:
    keys = [(i,) for i in range(8)]
    assert describe_keys(keys) == "0, 1, 2, 3, 4 and 3 more"
    assert describe_keys([(b"ab", 2)]) == "('ab', 2)"
    assert describe_keys([(b"x",)]) == "'x'"


# -- narrowing a differing batch ---------------------------------------------------------------


class Comparator:
    """``equal(group)``: no key of the group is bad; counts the comparisons."""

    def __init__(self, bad: set[int]):
        self.bad = bad
        self.calls = 0

    def __call__(self, group: Any) -> bool:
        self.calls += 1
        return not any(key[0] in self.bad for key in group)


def test_narrow__all_equal__one_comparison() -> None:
    equal = Comparator(set())
    assert narrow([(i,) for i in range(1000)], equal) == []
    assert equal.calls == 1


@pytest.mark.parametrize("bad", [{0}, {999}, {3, 500, 501}, {7, 8, 9, 10, 600}])
def test_narrow__some_differ__exactly_those_in_order_and_few_comparisons(bad: set[int]) -> None:
    equal = Comparator(bad)
    assert narrow([(i,) for i in range(1000)], equal) == [(i,) for i in sorted(bad)]
    # Bisection: about 2 log2(1000) comparisons per differing key, far below 1000.
    assert equal.calls <= 1 + 2 * len(bad) * 10


def test_narrow__every_key_differs__every_key_found() -> None:
    equal = Comparator(set(range(10)))
    assert narrow([(i,) for i in range(10)], equal) == [(i,) for i in range(10)]


def test_narrow__empty__no_comparison() -> None:
    equal = Comparator({1})
    assert narrow([], equal) == []
    assert equal.calls == 0


# -- the verifier against fake tables ----------------------------------------------------------


class Tables:
    """Two tables as dicts (key value -> row value) behind fake sessions: the writer's
    refresh (DELETE, then INSERT ... SELECT from the original) and the verifier's
    comparison (count, XOR and sum of each side's rows of the keys given). A ghost key in
    ``stuck`` keeps its old row whatever the refresh does (an apply that loses it)."""

    def __init__(self, rows: int = 10):
        self.original = {i: i for i in range(1, rows + 1)}
        self.ghost = dict(self.original)
        self.stuck: set[int] = set()
        self.snapshot = at(10**9)
        self.on_snapshot: Callable[[], None] = lambda: None
        """Runs when the snapshot's position is read (what the stream reads meanwhile)."""


class Session:
    def __init__(self, tables: Tables, name: str):
        self.tables = tables
        self.name = name
        self.statements: list[tuple[str, list[Any]]] = []
        self._rows: list[tuple[Any, ...]] = []

    def cursor(self) -> Session:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        params = list(params or [])
        self.statements.append((sql, params))
        t = self.tables
        self._rows = []
        if sql.startswith("SELECT * FROM (SELECT COUNT(*)"):
            half = len(params) // 2
            keys = set(params[:half])
            self._rows = [(*_digest(t.original, keys), *_digest(t.ghost, keys))]
        elif "binlog_snapshot" in sql:
            t.on_snapshot()
            snap = t.snapshot
            self._rows = [
                ("Binlog_snapshot_file", snap.file),
                ("Binlog_snapshot_position", snap.pos),
            ]
        elif sql.startswith("DELETE"):
            for key in params:
                if key not in t.stuck:
                    t.ghost.pop(key, None)
        elif sql.startswith(("INSERT", "REPLACE")):
            for key in params:
                if key in t.original and key not in t.stuck:
                    t.ghost[key] = t.original[key]
        elif sql.startswith("SELECT") and "@ghost_" in sql:
            self._rows = [("5",)]
        return 1

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        pass

    def compares(self) -> int:
        return sum(1 for sql, _ in self.statements if sql.startswith("SELECT * FROM"))


def _digest(rows: dict[int, int], keys: set[int]) -> tuple[int, int, int]:
    values = [hash((k, rows[k])) & 0xFFFFFFFF for k in keys if k in rows]
    xor = 0
    for v in values:
        xor ^= v
    return len(values), xor, sum(values)


def column(name: str, ordinal: int) -> Column:
    return Column(name, ordinal, "int", "int(11)", False, None, None, False, None, 10, 0, None)


def table(name: str) -> TableInfo:
    return TableInfo(
        schema="s",
        name=name,
        engine="InnoDB",
        columns=(column("id", 1), column("v", 2)),
        unique_keys=(UniqueKey("PRIMARY", ("id",), False),),
        row_estimate=0,
        auto_increment=None,
        triggers=(),
        child_foreign_keys=(),
        parent_foreign_keys=(),
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_verifier(
    tables: Tables, *, same_server: bool = True
) -> tuple[KeyVerifier, Applier, Session, Session, Clock]:
    plan = build_plan(table("t"), table("_t_gho"), renamed={}, dropped=frozenset())
    context = MigrationContext(GhostConfig(database="s", table="t", alter="ENGINE=InnoDB"))
    fence = VisibilityFence(
        FenceServer(),  # type: ignore[arg-type]
        SnapshotProbe(same_server=same_server),
        context,
        sleep=lambda _: None,
    )
    writer, session = Session(tables, "writer"), Session(tables, "verifier")
    applier = Applier(
        writer,  # type: ignore[arg-type]
        plan,
        context,
        ghost_table="_t_gho",
        key=(KeyColumn("id", "id", plan.original.column("id")),),
        fence=fence,
        start_position=at(4),
    )
    applier.copying = False
    context.streamer_position = at(10**9)  # the stream has read every change
    clock = Clock()
    verifier = KeyVerifier(session, applier, clock=clock)  # type: ignore[arg-type]
    return verifier, applier, writer, session, clock


def feed(*items: StreamItem) -> queue.Queue[StreamItem]:
    q: queue.Queue[StreamItem] = queue.Queue()
    for item in items:
        q.put(item)
    return q


def test_applier__drain__records_each_key_with_the_position_consumed() -> None:
    tables = Tables()
    verifier, applier, _, _, _ = make_verifier(tables)
    applier.drain(
        feed(
            KeyChange(((1,), (2,)), position=at(100)),
            KeyChange((), absent=((3,),), position=at(200)),
            Committed(at(250)),
        ),
        max_events=10,
    )
    assert verifier.keys.take_all() == [((1,), at(250)), ((2,), at(250)), ((3,), at(250))]


def test_applier__no_verifier__records_nothing() -> None:
    tables = Tables()
    _, applier, _, _, _ = make_verifier(tables)
    applier.touched = None
    applier.drain(feed(KeyChange(((1,),), position=at(100))), max_events=10)
    assert applier.touched is None


def test_turn__few_keys_just_after_a_turn__waits() -> None:
    tables = Tables()
    verifier, _, _, session, clock = make_verifier(tables)
    verifier.keys.add([(1,)], at(10))
    verifier.turn()
    assert session.compares() == 1 and len(verifier.keys) == 0

    verifier.keys.add([(2,)], at(10))
    clock.now += keyed.MIN_TURN_INTERVAL / 2
    verifier.turn()
    assert session.compares() == 1 and len(verifier.keys) == 1

    clock.now += keyed.MIN_TURN_INTERVAL
    verifier.turn()
    assert session.compares() == 2 and len(verifier.keys) == 0
    assert verifier.verified == 2


def test_turn__many_equal_keys__batch_after_batch_each_in_a_snapshot() -> None:
    tables = Tables(rows=3000)
    verifier, _, writer, session, clock = make_verifier(tables)
    verifier.keys.add([(i,) for i in range(1, 2501)], at(10))

    verifier.turn()

    # Full batches while BATCH or more wait; the rest waits for a later turn.
    assert len(verifier.keys) == 500
    assert session.compares() == 2
    clock.now += keyed.MIN_TURN_INTERVAL
    verifier.turn()
    assert len(verifier.keys) == 0
    assert verifier.verified == 2500
    verbs = [sql.split()[0] for sql, _ in session.statements if not sql.startswith("SHOW")]
    assert verbs == ["START", "SELECT", "COMMIT"] * 3
    assert writer.statements == []  # nothing re-applied
    first = next(p for sql, p in session.statements if sql.startswith("SELECT * FROM"))
    assert len(first) == 2 * BATCH  # the keys, for the original's side and the ghost's


def test_turn__set_over_its_cap__verified_until_back_under_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(touched_module, "SOFT_CAP", 100)
    tables = Tables(rows=3000)
    verifier, _, _, session, _ = make_verifier(tables)
    verifier.keys.add([(i,) for i in range(1, 2501)], at(10))

    verifier.turn()

    assert len(verifier.keys) == 0
    assert session.compares() == 3


def test_turn__apply_lags_behind__waits_until_it_caught_up() -> None:
    tables = Tables(rows=3000)
    verifier, _, _, session, clock = make_verifier(tables)
    verifier.keys.add([(i,) for i in range(1, 1501)], at(10))
    verifier.context.lag_seconds = keyed.DEFER_LAG_SECONDS + 0.5

    verifier.turn()
    assert session.compares() == 0 and len(verifier.keys) == 1500

    verifier.context.lag_seconds = keyed.DEFER_LAG_SECONDS / 2
    clock.now += keyed.MIN_TURN_INTERVAL
    verifier.turn()
    assert session.compares() >= 1 and len(verifier.keys) < 1500


def test_turn__lagging_but_set_over_its_cap__verified_anyway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(touched_module, "SOFT_CAP", 100)
    tables = Tables(rows=3000)
    verifier, _, _, session, _ = make_verifier(tables)
    verifier.keys.add([(i,) for i in range(1, 2501)], at(10))
    verifier.context.lag_seconds = 10 * keyed.DEFER_LAG_SECONDS

    verifier.turn()

    assert len(verifier.keys) == 0


@pytest.mark.parametrize(("lag", "batches"), [(0.5, 5), (10.0, 2)])
def test_turn__over_its_cap_slow_batches__lagging_turn_keeps_to_the_short_budget(
    monkeypatch: pytest.MonkeyPatch, lag: float, batches: int
) -> None:
    monkeypatch.setattr(touched_module, "SOFT_CAP", 100)
    tables = Tables(rows=5000)
    verifier, _, _, session, clock = make_verifier(tables)

    def slow_batch() -> None:
        clock.now += 0.3  # each batch's comparison takes 0.3 s

    tables.on_snapshot = slow_batch
    verifier.keys.add([(i,) for i in range(1, 5001)], at(10))
    verifier.context.lag_seconds = lag

    verifier.turn()

    # Near real time the turn goes on until the set is under its cap (5 batches within
    # OVER_CAP_BUDGET); lagging, it stops once past TURN_BUDGET (0.5 s: 2 batches).
    assert session.compares() == batches


def test_turn__a_key_differs__narrowed_reapplied_and_kept_to_verify_again() -> None:
    tables = Tables(rows=100)
    verifier, _, writer, session, clock = make_verifier(tables)
    tables.original[37] = -1  # changed after its re-read: its event is still to come
    verifier.keys.add([(i,) for i in range(1, 101)], at(10))

    verifier.turn()

    assert [k for k, _ in verifier.keys.take_all()] == [(37,)]
    assert verifier.reapplied == 1 and verifier.verified == 99
    assert tables.ghost[37] == -1  # re-applied from the original
    assert [p for sql, p in writer.statements if sql.startswith("DELETE")] == [[37]]
    assert session.compares() <= 1 + 2 * 7

    verifier.keys.add([(37,)], at(10))
    clock.now += 1
    verifier.turn()
    assert len(verifier.keys) == 0


def test_turn__key_applied_past_the_snapshot__put_back_not_judged() -> None:
    tables = Tables()
    verifier, applier, _, session, _ = make_verifier(tables)
    tables.snapshot = at(500)
    applier.fence = None  # the fence's own server would say the position is visible
    verifier.keys.add([(1,)], at(400))
    verifier.keys.add([(2,)], at(600))
    tables.original[2] = -2  # the snapshot may predate this change: not a verdict

    verifier.turn()

    assert verifier.keys.take_all() == [((2,), at(600))]
    assert verifier.reapplied == 0
    compared = [p for sql, p in session.statements if sql.startswith("SELECT * FROM")]
    assert compared == [[1, 1]]


def test_turn__key_with_a_change_still_queued__put_back_not_compared() -> None:
    tables = Tables(rows=100)
    verifier, _, _, session, _ = make_verifier(tables)
    verifier.newest = NewestEvents()
    verifier.newest.note([(37,)], at(30))  # read by the stream, not yet applied
    verifier.newest.note([(38,)], at(5))  # older than its application: not pending
    tables.original[37] = -1  # the original is ahead of the ghost for that key
    verifier.keys.add([(i,) for i in range(1, 101)], at(10))

    verifier.turn()

    assert verifier.keys.take_all() == [((37,), at(10))]
    assert verifier.reapplied == 0 and verifier.verified == 99
    assert session.compares() == 1  # no bisection


def stream_watching(
    tables: Tables, *, read_at_snapshot: list[tuple[int]] | None = None
) -> tuple[KeyVerifier, Applier, Session]:
    """A verifier that knows the stream's newest events, its snapshots at position 500;
    the stream reads a change (at 450) of the keys ``read_at_snapshot`` while a turn
    opens its snapshot."""
    verifier, applier, _, session, _ = make_verifier(tables)
    newest = NewestEvents()
    verifier.newest = newest
    tables.snapshot = at(500)
    tables.on_snapshot = lambda: newest.note(read_at_snapshot or [], at(450))
    return verifier, applier, session


def test_turn__change_read_while_the_snapshot_opened__put_back_not_compared() -> None:
    tables = Tables(rows=100)
    # Its event is read by the stream only while the turn opens its snapshot.
    verifier, _, session = stream_watching(tables, read_at_snapshot=[(37,)])
    tables.original[37] = -1  # committed before the snapshot, after key 37's re-read
    verifier.keys.add([(i,) for i in range(1, 101)], at(10))

    verifier.turn()

    assert verifier.keys.take_all() == [((37,), at(10))]
    assert verifier.reapplied == 0 and verifier.verified == 99
    assert session.compares() == 1  # no bisection
    assert verifier.stream_waits_missed == 0


def test_turn__stream_behind_the_snapshot__key_compared_narrowed_and_reapplied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keyed, "STREAM_WAIT_SECONDS", 0.0)
    tables = Tables(rows=100)
    verifier, applier, _ = stream_watching(tables, read_at_snapshot=[(37,)])
    tables.original[37] = -1
    applier.context.streamer_position = at(400)  # the stream has not read that far
    verifier.keys.add([(i,) for i in range(1, 101)], at(10))

    verifier.turn()

    # Not known to be queued when compared: found different and re-applied, as before.
    assert verifier.reapplied == 1 and tables.ghost[37] == -1
    assert verifier.stream_waits_missed == 1


def test_turn__lagging_over_its_cap_stream_behind__not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(touched_module, "SOFT_CAP", 100)

    def no_sleep(seconds: float) -> None:
        raise AssertionError("a lagging turn waited for the stream")

    monkeypatch.setattr(time, "sleep", no_sleep)
    tables = Tables(rows=3000)
    verifier, applier, _ = stream_watching(tables)
    applier.context.streamer_position = at(400)  # blocked on a full queue
    verifier.context.lag_seconds = 10 * keyed.DEFER_LAG_SECONDS
    verifier.keys.add([(i,) for i in range(1, 2501)], at(10))

    verifier.turn()

    assert len(verifier.keys) == 0  # compared as before, without waiting
    assert verifier.stream_waits_missed == 3


def test_turn__whole_batch_put_back_at_the_snapshot__turn_stops_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(touched_module, "SOFT_CAP", 100)
    tables = Tables(rows=3000)
    keys = [(i,) for i in range(1, 3001)]
    # The first batch changed after its re-read, read by the stream meanwhile.
    verifier, _, session = stream_watching(tables, read_at_snapshot=keys[:BATCH])
    verifier.keys.add(keys, at(10))

    verifier.turn()

    snapshots = [sql for sql, _ in session.statements if "binlog_snapshot" in sql]
    assert len(snapshots) == 1  # over its cap, yet no second batch
    assert len(verifier.keys) == 3000 and session.compares() == 0


def test_turn__oldest_batch_all_still_queued__stops_after_it() -> None:
    tables = Tables(rows=3000)
    verifier, _, _, session, _ = make_verifier(tables)
    verifier.newest = NewestEvents()
    keys = [(i,) for i in range(1, 3001)]
    verifier.newest.note(keys, at(30))
    verifier.keys.add(keys, at(10))

    verifier.turn()

    left = [key for key, _ in verifier.keys.take_all()]
    assert sorted(left) == keys
    # Only the first batch was looked at (and put back at the end): no pass over the rest.
    assert left[0] == (BATCH + 1,) and left[-1] == (BATCH,)
    assert session.compares() == 0
    assert not any(sql.startswith("START TRANSACTION") for sql, _ in session.statements)


def test_newest_events__past_a_generation__older_keys_kept_one_more_generation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(NewestEvents, "GENERATION", 2)
    newest = NewestEvents()
    newest.note([(1,), (2,), (3,)], at(50))  # over the generation: becomes the previous
    newest.note([(4,)], at(60))
    assert newest.newer_than((1,), at(40)) and newest.newer_than((4,), at(40))
    assert not newest.newer_than((4,), at(60))
    newest.note([(5,), (6,)], at(70))  # the second generation pushes the first out
    assert not newest.newer_than((1,), at(40))
    assert newest.newer_than((5,), at(40))


def test_streamer__row_event_of_the_table__newest_position_noted() -> None:
    streamer = Streamer(
        None,  # type: ignore[arg-type]
        MigrationContext(GhostConfig(database="s", table="t", alter="ENGINE=InnoDB")),
        table="t",
        changelog_table="_t_ghc",
    )
    streamer._handle(RowChange("t", "update", before=(1,), after=(2,), position=at(70)))
    assert streamer.newest.newer_than((1,), at(60)) and streamer.newest.newer_than((2,), at(60))
    assert not streamer.newest.newer_than((2,), at(70))


def test_turn__binlog_read_on_a_replica__no_snapshot_position_read() -> None:
    tables = Tables()
    verifier, applier, _, session, _ = make_verifier(tables, same_server=False)
    applier.fence = None
    tables.snapshot = at(5)
    verifier.keys.add([(1,)], at(400))

    verifier.turn()

    assert len(verifier.keys) == 0
    assert not any("binlog_snapshot" in sql for sql, _ in session.statements)


def test_turn__while_copying__bounds_copied_and_both_sides_limited_to_the_written_range() -> None:
    tables = Tables()
    verifier, applier, writer, session, _ = make_verifier(tables)
    applier.copying = True
    applier.copied_through_lo = True
    verifier.keys.add([(1,)], at(10))

    verifier.turn()

    reads = [sql for sql, _ in writer.statements if "@ghost_lo_0" in sql or "@ghost_max_0" in sql]
    assert len(reads) == 2  # @ghost_lo and @ghost_max read from the writer's session
    sets = [sql for sql, _ in session.statements if sql.startswith("SET @ghost_")]
    assert [s.split(" =")[0] for s in sets] == ["SET @ghost_lo_0", "SET @ghost_max_0"]
    compare = next(sql for sql, _ in session.statements if sql.startswith("SELECT * FROM"))
    assert compare.count("<= @ghost_lo_0") == 2 and compare.count("> @ghost_max_0") == 2


def test_turn__aborted__nothing_compared() -> None:
    tables = Tables()
    verifier, applier, _, session, _ = make_verifier(tables)
    verifier.keys.add([(1,)], at(10))
    applier.context.request_abort("test")
    verifier.turn()
    assert session.statements == [] and len(verifier.keys) == 1


def test_verify_under_lock__all_equal__set_emptied_without_a_snapshot() -> None:
    tables = Tables(rows=1500)
    verifier, _, writer, session, _ = make_verifier(tables)
    verifier.keys.add([(i,) for i in range(1, 1501)], at(10))

    assert verifier.verify_under_lock(None) == 1500

    assert len(verifier.keys) == 0
    assert session.compares() == 2  # two batches
    assert not any(sql.startswith("START") for sql, _ in session.statements)
    assert writer.statements == []


def test_verify_under_lock__differs_then_reapplied__passes() -> None:
    tables = Tables()
    verifier, _, writer, _, _ = make_verifier(tables)
    tables.ghost[4] = 999  # a stale ghost row of a key applied since the last turn
    del tables.ghost[6]  # a row lost by the apply
    verifier.keys.add([(i,) for i in range(1, 11)], at(10))

    assert verifier.verify_under_lock(None) == 10

    assert tables.ghost == tables.original
    assert verifier.reapplied == 2
    assert len(verifier.keys) == 0
    assert [p for sql, p in writer.statements if sql.startswith("DELETE")] == [[4, 6]]


def test_verify_under_lock__still_differs__keys_differ_raised_and_keys_kept() -> None:
    tables = Tables()
    verifier, _, _, _, _ = make_verifier(tables)
    del tables.ghost[6]
    tables.stuck.add(6)  # every re-apply loses it again
    verifier.keys.add([(i,) for i in range(1, 11)], at(10))

    with pytest.raises(KeysDiffer) as raised:
        verifier.verify_under_lock(None)

    assert raised.value.keys == [(6,)]
    assert raised.value.compared == 10
    assert len(verifier.keys) == 10  # not verified: a retried attempt sees them again


def test_verify_under_lock__lock_session_given__compared_and_reapplied_there() -> None:
    tables = Tables()
    verifier, _, writer, session, _ = make_verifier(tables)
    lock = Session(tables, "lock")
    tables.ghost[2] = 0
    verifier.keys.add([(1,), (2,)], at(10))

    verifier.verify_under_lock(lock)  # type: ignore[arg-type]

    assert session.statements == [] and writer.statements == []
    verbs = [sql.split()[0] for sql, _ in lock.statements]
    assert "BEGIN" not in verbs  # BEGIN would release LOCK TABLES
    assert verbs.count("DELETE") == 1 and verbs.count("INSERT") == 1
    assert tables.ghost == tables.original


# -- the cut-over's step -------------------------------------------------------------------------


def _attempt(verifier: KeyVerifier | None) -> TwoStepAttempt:
    context = MigrationContext(GhostConfig(default_retries=3))
    return TwoStepAttempt(
        spec=None,  # type: ignore[arg-type]
        connect=lambda *_a, **_k: None,
        context=context,
        original="t",
        ghost="_t_gho",
        old="_t_del",
        applier=None,  # type: ignore[arg-type]
        streamer=None,  # type: ignore[arg-type]
        changelog=None,  # type: ignore[arg-type]
        main_conn=None,
        verifier=verifier,
    )


def test_attempt_verify_applied_keys__turned_off__nothing_run() -> None:
    _attempt(None).verify_applied_keys(None)


def test_retry__keys_differ__migration_fails_once_naming_the_keys() -> None:
    attempt = _attempt(None)
    runs: list[int] = []

    def run() -> None:
        runs.append(1)
        raise KeysDiffer([(250,), (251,)], compared=900)

    attempt.run = run  # type: ignore[method-assign]
    with pytest.raises(CutOverVerificationFailed) as raised:
        retry(attempt, sleep=lambda _: None, before_attempt=None)

    assert runs == [1]  # not retried: another attempt would find the same divergence
    assert isinstance(raised.value, CutOverError)
    assert raised.value.keys == [(250,), (251,)] and raised.value.compared == 900
    message = str(raised.value)
    assert "2 of the 900 keys verified still differ" in message
    assert "(keys: 250, 251)" in message
    assert "the original table t is untouched" in message
    assert "The ghost table _t_gho is kept for inspection" in message
    assert re.search(r"please report it", message)


def test_settled__nothing_measured_yet__judged_at_the_default_rate() -> None:
    verifier, *_ = make_verifier(Tables(rows=10))
    fits = int(keyed.DEFAULT_KEYS_PER_SECOND * keyed.SETTLED_STALL_SECONDS)
    verifier.keys.add([(i,) for i in range(fits)], at(10))
    assert verifier.settled()
    verifier.keys.add([(i,) for i in range(fits, fits + 10)], at(10))
    assert not verifier.settled()


def test_settled__slow_comparisons_measured__fewer_keys_fit() -> None:
    tables = Tables(rows=3000)
    verifier, _, _, _, clock = make_verifier(tables)
    real_equal = verifier.equal

    def slow_equal(conn: Any, keys: Any, written: Any) -> bool:
        clock.now += len(keys) / 1000.0  # 1,000 keys a second
        return bool(real_equal(conn, keys, written))

    verifier.equal = slow_equal  # type: ignore[method-assign]
    verifier.keys.add([(i,) for i in range(1, BATCH + 1)], at(10))
    verifier.turn()
    assert len(verifier.keys) == 0
    verifier.keys.add([(i,) for i in range(1, BATCH + 1)], at(20))
    assert verifier.settled()  # never fewer than one statement's keys
    verifier.keys.add([(BATCH + 1,)], at(20))
    assert not verifier.settled()  # 1,000 keys/s x 0.3 s is below one statement
