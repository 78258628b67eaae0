"""GTID positions of both flavours (mysql/gtid.py), the stream's GTID tracking and dump
request (binlog/gtidtrack.py), and where positions and checkpoints carry a GTID.

MySQL cannot be installed where django_ghost is tested: its GTID sets and its dump
request are verified here only. MariaDB's forms are also run against the sandbox
(tests/integration/engine/test_gtid.py).
"""

from __future__ import annotations

import struct
import uuid
import zlib
from typing import Any

import pytest

from django_ghost.cli.args import parse_args
from django_ghost.engine.apply.fence import binlog_order
from django_ghost.engine.binlog.coordinates import current_position, gtid_start_problem
from django_ghost.engine.binlog.events import BinlogPosition, TransactionEnd
from django_ghost.engine.binlog.gtidtrack import (
    BINLOG_THROUGH_GTID,
    COM_BINLOG_DUMP,
    COM_BINLOG_DUMP_GTID,
    MARIADB_GTID_EVENT,
    MYSQL_GTID_EVENT,
    MYSQL_GTID_TAGGED_EVENT,
    GtidTracker,
    dump_request,
)
from django_ghost.engine.binlog.reader import WatchSpec
from django_ghost.engine.binlog.stream import BinlogStream
from django_ghost.engine.errors import BinlogError, PreflightError
from django_ghost.engine.mysql.connection import ConnectionSpec
from django_ghost.engine.mysql.gtid import GtidSet, MariaGtid, MariaGtidPos
from django_ghost.engine.state.checkpoint import Checkpoint

U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
U2 = "8c0c3a1e-5f0b-11ee-8c99-0242ac120002"


# -- MariaDB positions -----------------------------------------------------------------------


def test_maria_gtid_pos__parse_format__sorted_by_domain_round_trip() -> None:
    pos = MariaGtidPos.parse(" 1-2-5, 0-1-100 ")
    assert pos.gtids == (MariaGtid(0, 1, 100), MariaGtid(1, 2, 5))
    assert str(pos) == "0-1-100,1-2-5"
    assert MariaGtidPos.parse(str(pos)) == pos


def test_maria_gtid_pos__empty__false_and_empty_text() -> None:
    assert not MariaGtidPos.parse("")
    assert str(MariaGtidPos.parse("")) == ""


@pytest.mark.parametrize("text", ["0-1", "a-1-2", "0-1-2-3", "0-1-5,0-2-6", U1 + ":1-5"])
def test_maria_gtid_pos__malformed__refused_naming_it(text: str) -> None:
    with pytest.raises(BinlogError, match="Cannot read the MariaDB GTID position"):
        MariaGtidPos.parse(text)


def test_maria_gtid_pos__reached__per_domain_sequence() -> None:
    server = MariaGtidPos.parse("0-1-100,1-2-5")
    assert server.reached(MariaGtidPos.parse("0-1-100"))
    assert server.reached(MariaGtidPos.parse("0-1-99,1-2-5"))
    assert not server.reached(MariaGtidPos.parse("0-1-101"))
    assert not server.reached(MariaGtidPos.parse("2-1-1"))


def test_maria_gtid_pos__behind__gtids_the_server_has_not_reached() -> None:
    wanted = MariaGtidPos.parse("0-1-120,1-2-5,3-1-1")
    server = MariaGtidPos.parse("0-1-100,1-2-9")
    assert wanted.behind(server) == [MariaGtid(0, 1, 120)]


def test_maria_gtid_pos__start_on_other_server__unknown_domains_from_its_end() -> None:
    checkpoint = MariaGtidPos.parse("0-1-100,5-1-7")
    replica = MariaGtidPos.parse("0-1-150,1-2-30")
    # Domain 0 continues after the checkpoint; the replica's own domain 1 never reached
    # the checkpoint's server (start at its end); domain 5 the replica never had.
    assert str(checkpoint.start_on(replica)) == "0-1-100,1-2-30"


def test_maria_gtid_pos__with_gtid__replaces_its_domain() -> None:
    pos = (
        MariaGtidPos.parse("0-1-100").with_gtid(MariaGtid(0, 2, 101)).with_gtid(MariaGtid(1, 1, 1))
    )
    assert str(pos) == "0-2-101,1-1-1"


# -- MySQL sets -------------------------------------------------------------------------------


def test_gtid_set__parse_format__merged_sorted_lowercase() -> None:
    text = f"{U2.upper()}:3-4:1, {U1}:11-18:1-5:6-10\n"
    parsed = GtidSet.parse(text)
    assert str(parsed) == f"{U1}:1-18,{U2}:1:3-4"
    assert GtidSet.parse(str(parsed)) == parsed


def test_gtid_set__tags__kept_per_source_and_tag() -> None:
    parsed = GtidSet.parse(f"{U1}:1-5:Blue:1-2,{U1}:7")
    assert str(parsed) == f"{U1}:1-5:7,{U1}:blue:1-2"


@pytest.mark.parametrize(
    "text", [f"{U1}", f"{U1}:0-3", f"{U1}:5-3", "not-a-uuid:1-5", f"{U1}:1-x", "0-1-100"]
)
def test_gtid_set__malformed__refused_naming_it(text: str) -> None:
    with pytest.raises(BinlogError, match="Cannot read the MySQL GTID position"):
        GtidSet.parse(text)


def test_gtid_set__contains__per_source_interval() -> None:
    executed = GtidSet.parse(f"{U1}:1-100:200-300,{U2}:1-5")
    assert executed.contains(GtidSet.parse(f"{U1}:5-50:250,{U2}:5"))
    assert executed.contains(GtidSet.parse(""))
    assert not executed.contains(GtidSet.parse(f"{U1}:100-200"))
    assert not executed.contains(GtidSet.parse(f"{U2}:6"))
    assert not executed.contains(GtidSet.parse(f"{U1}:blue:1"))


def test_gtid_set__add_and_union__extend_intervals() -> None:
    start = GtidSet.parse(f"{U1}:1-5")
    assert str(start.add(U1, 6).add(U1, 8)) == f"{U1}:1-6:8"
    assert str(start.union(GtidSet.parse(f"{U1}:3-9,{U2}:1"))) == f"{U1}:1-9,{U2}:1"


def test_gtid_set__encode__dump_request_layout() -> None:
    encoded = GtidSet.parse(f"{U1}:1-5:7").encode()
    expected = (
        struct.pack("<Q", 1)
        + uuid.UUID(U1).bytes
        + struct.pack("<Q", 2)
        + struct.pack("<QQ", 1, 6)
        + struct.pack("<QQ", 7, 8)
    )
    assert encoded == expected


def test_gtid_set__encode_tagged__refused() -> None:
    with pytest.raises(BinlogError, match="tagged GTIDs"):
        GtidSet.parse(f"{U1}:blue:1").encode()


# -- the stream's tracking ---------------------------------------------------------------------


def maria_gtid_event(domain: int, server_id: int, seq: int, flags2: int = 0) -> bytes:
    body = struct.pack("<QIB", seq, domain, flags2) + b"\x00" * 6
    return struct.pack("<IBIIIH", 0, MARIADB_GTID_EVENT, server_id, 19 + len(body) + 4, 0, 0) + (
        body + b"\x00" * 4
    )


def mysql_gtid_event(sid: str, gno: int, etype: int = MYSQL_GTID_EVENT) -> bytes:
    body = b"\x01" + uuid.UUID(sid).bytes + struct.pack("<Q", gno) + b"\x00" * 10
    return struct.pack("<IBIIIH", 0, etype, 1, 19 + len(body) + 4, 0, 0) + body + b"\x00" * 4


def test_gtid_tracker__mariadb__commit_folds_pending_per_domain() -> None:
    tracker = GtidTracker("0-1-100,1-2-5")
    assert tracker.commit() == "0-1-100,1-2-5"
    tracker.on_event(MARIADB_GTID_EVENT, maria_gtid_event(0, 1, 101), 19)
    tracker.on_event(MARIADB_GTID_EVENT, maria_gtid_event(3, 7, 1), 19)  # a group with no XID
    assert tracker.commit() == "0-1-101,1-2-5,3-7-1"
    tracker.reset("0-1-100")
    tracker.on_event(MARIADB_GTID_EVENT, maria_gtid_event(0, 1, 101), 19)
    tracker.reset("0-1-100")  # a reconnect before the transaction ended
    assert tracker.commit() == "0-1-100"


def test_gtid_tracker__mysql__executed_set_grows() -> None:
    tracker = GtidTracker(f"{U1}:1-5")
    for sid, gno in ((U1, 6), (U1, 7), (U2, 1), (U1, 9)):
        tracker.on_event(MYSQL_GTID_EVENT, mysql_gtid_event(sid, gno), 19)
        text = tracker.commit()
    assert text == f"{U1}:1-7:9,{U2}:1"
    assert GtidSet.parse(text) == GtidSet.parse(f"{U1}:1-5").add(U1, 6).add(U1, 7).add(U2, 1).add(
        U1, 9
    )


def test_gtid_tracker__mysql_tagged_gtid__refused() -> None:
    with pytest.raises(BinlogError, match="tagged GTID"):
        GtidTracker(f"{U1}:1").on_event(
            MYSQL_GTID_TAGGED_EVENT, mysql_gtid_event(U1, 2, MYSQL_GTID_TAGGED_EVENT), 19
        )


def test_binlog_stream__by_gtid__transaction_end_carries_position_after_it() -> None:
    s = BinlogStream(
        ConnectionSpec(),
        server_id=99,
        schema="app",
        watch={"t": WatchSpec(("id",))},
        start=BinlogPosition("", 0, "0-1-100"),
        by_gtid=True,
    )
    s._checksum_len = 4
    s._file = "binlog.000007"
    xid = struct.pack("<IBIIIH", 0, 16, 1, 19 + 8 + 4, 555, 0) + b"\x00" * 8
    s._handle(maria_gtid_event(0, 1, 101))
    s._handle(xid + struct.pack("<I", zlib.crc32(xid)))
    (end,) = s._out
    assert isinstance(end, TransactionEnd)
    assert end.position == BinlogPosition("binlog.000007", 555)
    assert end.position.gtid == "0-1-101"
    assert s._resume.gtid == "0-1-101"


# -- dump requests ---------------------------------------------------------------------------


def test_dump_request__mariadb__connect_state_adapted_and_no_file() -> None:
    statements, payload = dump_request(
        BinlogPosition("", 0, "0-1-100"), server_id=42, mariadb=True, server_gtid="0-1-150,1-2-3"
    )
    assert statements[0] == ("SET @slave_connect_state = %s", ("0-1-100,1-2-3",))
    assert payload == bytes((COM_BINLOG_DUMP,)) + struct.pack("<IHI", 4, 0, 42)


def test_dump_request__mysql__through_gtid_with_encoded_set() -> None:
    statements, payload = dump_request(
        BinlogPosition("", 0, f"{U1}:1-5"), server_id=42, mariadb=False
    )
    data = GtidSet.parse(f"{U1}:1-5").encode()
    assert statements == []
    assert payload == (
        bytes((COM_BINLOG_DUMP_GTID,))
        + struct.pack("<HIIQI", BINLOG_THROUGH_GTID, 42, 0, 4, len(data))
        + data
    )


# -- positions and checkpoints ---------------------------------------------------------------


def test_binlog_position__gtid__not_compared_shown_and_kept_apart() -> None:
    a = BinlogPosition("binlog.000002", 10, "0-1-5")
    assert a == BinlogPosition("binlog.000002", 10)
    assert str(a) == "binlog.000002:10 [0-1-5]"
    assert BinlogPosition.parse(a.coordinates, a.gtid) == a
    assert str(BinlogPosition("", 0, "0-1-5")) == "(by GTID) [0-1-5]"


def test_binlog_order__start_by_gtid__before_every_file() -> None:
    assert binlog_order(BinlogPosition("", 0, "0-1-5")) < binlog_order(
        BinlogPosition("binlog.000001", 4)
    )


def checkpoint(gtid: str) -> Checkpoint:
    return Checkpoint((), (), True, False, False, "binlog.000003:777", 0, 0, "a", "t", gtid=gtid)


def test_checkpoint__gtid__json_round_trip_and_stream_start_by_gtid() -> None:
    saved = Checkpoint.from_json(checkpoint("0-1-100").to_json())
    assert saved.binlog_position == BinlogPosition("binlog.000003", 777)
    assert saved.binlog_position.gtid == "0-1-100"
    start = saved.stream_start(gtid=True)
    assert (start.file, start.gtid) == ("", "0-1-100")
    assert saved.stream_start(gtid=False) == BinlogPosition("binlog.000003", 777)


def test_checkpoint__without_gtid_resumed_by_gtid__refused_naming_remedy() -> None:
    old = Checkpoint.from_json(checkpoint("").to_json().replace(',"gtid":""', ""))
    with pytest.raises(PreflightError, match="Resume without gtid"):
        old.stream_start(gtid=True)


# -- server coordinates (a server answering by statement text) --------------------------------


class Server:
    """A DB-API connection whose cursor answers each statement (with its parameters
    interpolated) from ``answers``."""

    def __init__(self, answers: dict[str, list[tuple[Any, ...]]]):
        self.answers = answers
        self.rows: list[tuple[Any, ...]] = []

    def cursor(self) -> Server:
        return self

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        text = sql % tuple(repr(p) for p in params) if params else sql
        self.rows = self.answers[text]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        pass


MARIADB = {"SELECT VERSION()": [("10.11.6-MariaDB-log",)]}
MYSQL = {"SELECT VERSION()": [("8.0.36",)]}


def test_current_position__mysql_gtid__executed_set_of_same_status_row() -> None:
    server = Server(
        {**MYSQL, "SHOW MASTER STATUS": [("binlog.000007", 1234, "", "", f"{U1}:1-5,\n{U2}:1")]}
    )
    at = current_position(server, gtid=True)
    assert (at.coordinates, at.gtid) == ("binlog.000007:1234", f"{U1}:1-5,{U2}:1")


def test_current_position__mysql_gtid_off__refused_naming_gtid_mode() -> None:
    server = Server({**MYSQL, "SHOW MASTER STATUS": [("binlog.000007", 1234, "", "", "")]})
    with pytest.raises(BinlogError, match="gtid_mode"):
        current_position(server, gtid=True)


def test_current_position__mariadb_gtid__binlog_gtid_pos_of_file_and_offset() -> None:
    server = Server(
        {
            **MARIADB,
            "SHOW MASTER STATUS": [("binlog.000002", 900, "", "")],
            "SELECT BINLOG_GTID_POS('binlog.000002', 900)": [("1-2-5,0-1-100",)],
        }
    )
    at = current_position(server, gtid=True)
    assert (at.coordinates, at.gtid) == ("binlog.000002:900", "0-1-100,1-2-5")


def mariadb_server(binlog_pos: str, oldest_list: str) -> Server:
    return Server(
        {
            **MARIADB,
            "SELECT @@GLOBAL.gtid_binlog_pos": [(binlog_pos,)],
            "SHOW BINARY LOGS": [("binlog.000009", 4000), ("binlog.000010", 500)],
            "SHOW BINLOG EVENTS IN 'binlog.000009' LIMIT 4": [
                ("binlog.000009", 4, "Format_desc", 1, 256, "Server ver: 10.11.6"),
                ("binlog.000009", 256, "Gtid_list", 1, 300, f"[{oldest_list}]"),
            ],
        }
    )


def test_gtid_start_problem__mariadb_binlogs_kept__none() -> None:
    assert gtid_start_problem(mariadb_server("0-1-200,1-2-9", "0-1-50,1-2-3"), "0-1-100") == ""


def test_gtid_start_problem__mariadb_purged_after_position__start_over() -> None:
    problem = gtid_start_problem(mariadb_server("0-1-200", "0-1-150"), "0-1-100")
    assert "purged" in problem and "0-1-150" in problem and "binlog_expire" in problem


def test_gtid_start_problem__mariadb_server_behind__names_gtid_and_wait() -> None:
    problem = gtid_start_problem(mariadb_server("0-1-90", ""), "0-1-100")
    assert "0-1-100" in problem and "MASTER_GTID_WAIT" in problem


def mysql_server(executed: str, purged: str) -> Server:
    return Server(
        {
            **MYSQL,
            "SELECT @@GLOBAL.gtid_executed": [(executed,)],
            "SELECT @@GLOBAL.gtid_purged": [(purged,)],
        }
    )


def test_gtid_start_problem__mysql__behind_purged_or_fine() -> None:
    assert gtid_start_problem(mysql_server(f"{U1}:1-200", f"{U1}:1-50"), f"{U1}:1-100") == ""
    behind = gtid_start_problem(mysql_server(f"{U1}:1-90", ""), f"{U1}:1-100")
    assert "WAIT_FOR_EXECUTED_GTID_SET" in behind
    purged = gtid_start_problem(mysql_server(f"{U1}:1-200", f"{U1}:1-150"), f"{U1}:1-100")
    assert "purged" in purged and f"{U1}:1-150" in purged


def test_parse_args__gtid_flag__engine_option_on() -> None:
    assert parse_args(["--table=t", "--alter=ADD COLUMN c INT", "--gtid"]).options["gtid"] is True
