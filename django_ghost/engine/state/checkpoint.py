"""Checkpoints: where the copy and the binlog apply were, saved so a killed run can resume.

A checkpoint is one changelog row (hint ``checkpoint``) holding JSON: the copy's lower
bound and fixed maximum (the session variables of the writer, saved in a form that
restores their exact type and collation), whether the first chunk was done, whether the
copy finished, the binlog position up to which every change has been applied (file and
offset, and with config ``gtid`` the GTID position there too), counters,
fingerprints of the ALTER and of the original table's definition, the helper tables'
names as rendered (a ``{timestamp}`` template renders other names in a later run), and
the connection ids of the run's sessions that write (sessions.py ends those still
running on the server before a resume writes anything).

Why resuming from it is consistent: every change before the saved position is in the
ghost table, and replaying changes after it is harmless because the apply re-reads rows
by key. The GTID position names the same point on every server of the same replication
domains (a replica with log_slave_updates, a promoted replica), whose file names and
offsets differ: a resume with ``gtid`` streams from it, wherever the binlog is read.
Chunks copied after the checkpoint are removed from the ghost (its rows between
the saved bound and the maximum) and copied again from the current data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from ..binlog.events import BinlogPosition
from ..errors import PreflightError
from ..mysql.connection import Connection, query
from ..sql.quote import quote_identifier as q

HINT = "checkpoint"


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    lo: tuple[str | None, ...]
    max: tuple[str | None, ...]
    first: bool
    copy_done: bool
    has_range: bool
    position: str
    rows_copied: int
    events_applied: int
    alter_sha: str
    table_sha: str
    ghost: str = ""
    changelog: str = ""
    old: str = ""
    """The helper tables' names as the run rendered them ("" in older checkpoints)."""
    sessions: tuple[int, ...] = ()
    """Connection ids of the run's writing sessions (the writer, the main session)."""
    sessions_user: str = ""
    """The user those sessions are logged in as (PROCESSLIST.USER)."""
    server_started: int = 0
    """When the server they ran on started (epoch seconds): their ids mean those
    sessions only while the server has not restarted since."""
    gtid: str = ""
    """The GTID position at ``position`` ("" when the run did not stream by GTID)."""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        data["lo"] = tuple(data["lo"])
        data["max"] = tuple(data["max"])
        data["sessions"] = tuple(int(i) for i in data.get("sessions", ()))
        return cls(**data)

    @property
    def binlog_position(self) -> BinlogPosition:
        return BinlogPosition.parse(self.position, self.gtid)

    def stream_start(self, *, gtid: bool) -> BinlogPosition:
        """Where a resume streams from. By GTID the file and offset are left out: they
        are the names of the server the checkpoint was read on, and the server read now
        may be another one (it names its own file when the stream starts)."""
        if not gtid:
            return self.binlog_position
        if not self.gtid:
            raise PreflightError(
                "Cannot resume with gtid: the earlier run did not stream by GTID, so its "
                f"checkpoint holds only the file position {self.position} of the server it "
                "read. Resume without gtid (reading the same server), or start over."
            )
        return BinlogPosition("", 0, self.gtid)


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def load(conn: Connection, changelog: str) -> Checkpoint:
    rows = query(conn, f"SELECT value FROM {q(changelog)} WHERE hint = %s", (HINT,))
    if not rows:
        raise PreflightError(
            f"No checkpoint in {changelog}: the earlier run stopped before copying anything. "
            "Start a fresh run instead (it drops the leftover tables with "
            "initially_drop_ghost_table)."
        )
    return Checkpoint.from_json(str(rows[0][0]))
