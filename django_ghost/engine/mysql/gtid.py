"""GTID positions of both flavours: parse, format, compare, and what a dump request needs.

MariaDB (:class:`MariaGtidPos`): a GTID is ``domain-server-sequence``; a *position*
(``@@gtid_binlog_pos``, ``BINLOG_GTID_POS(file, pos)``, ``@slave_connect_state``) is the
last GTID of each replication domain, ``0-1-100,1-2-5``. Within a domain the sequence
only grows (the server that wrote a GTID does not change its order), so "has the server
got as far as this position" is a per-domain comparison of sequence numbers.

MySQL (:class:`GtidSet`): a GTID is ``uuid:number`` (MySQL 8.4: ``uuid:tag:number``); a
*set* (``gtid_executed``, ``Executed_Gtid_Set``) holds intervals per source,
``3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18,…``. Containment is per source and
per interval. The dump request (COM_BINLOG_DUMP_GTID) carries the set in a binary form
(:meth:`GtidSet.encode`), untagged GTIDs only.

Only MariaDB 10.11 can be installed where django_ghost is tested: the MariaDB forms are
exercised against a real server by the integration tests, the MySQL forms by unit tests
only (tests/unit/engine/test_gtid.py).
"""

from __future__ import annotations

import dataclasses
import re
import struct
import uuid

from ..errors import BinlogError

_MARIA_ONE = re.compile(r"^(\d+)-(\d+)-(\d+)$")
_HEX = "[0-9a-fA-F]"
_UUID = re.compile(rf"^{_HEX}{{8}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{12}}$")
_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_INTERVAL = re.compile(r"^(\d+)(?:-(\d+))?$")


def _bad(text: str, flavour: str, example: str) -> BinlogError:
    return BinlogError(
        f"Cannot read the {flavour} GTID position {text[:200]!r}: expected a list like "
        f"{example!r}. Check the checkpoint or the server's GTID variables."
    )


@dataclasses.dataclass(frozen=True)
class MariaGtid:
    """One MariaDB GTID: replication domain, the server that wrote it, its sequence."""

    domain: int
    server_id: int
    seq: int

    def __str__(self) -> str:
        return f"{self.domain}-{self.server_id}-{self.seq}"


@dataclasses.dataclass(frozen=True)
class MariaGtidPos:
    """The last GTID of each domain (domain → GTID), as MariaDB writes a position."""

    gtids: tuple[MariaGtid, ...] = ()

    @classmethod
    def parse(cls, text: str) -> MariaGtidPos:
        found: dict[int, MariaGtid] = {}
        for part in (p.strip() for p in text.replace("\n", ",").split(",")):
            if not part:
                continue
            match = _MARIA_ONE.match(part)
            if match is None:
                raise _bad(text, "MariaDB", "0-1-100,1-2-5")
            gtid = MariaGtid(*(int(g) for g in match.groups()))
            if gtid.domain in found:
                raise _bad(text, "MariaDB", "0-1-100,1-2-5 (one GTID per domain)")
            found[gtid.domain] = gtid
        return cls(tuple(sorted(found.values(), key=lambda g: g.domain)))

    def __str__(self) -> str:
        return ",".join(str(g) for g in self.gtids)

    def __bool__(self) -> bool:
        return bool(self.gtids)

    @property
    def domains(self) -> dict[int, MariaGtid]:
        return {g.domain: g for g in self.gtids}

    def with_gtid(self, gtid: MariaGtid) -> MariaGtidPos:
        """This position once ``gtid`` has been applied (it replaces its domain's)."""
        domains = self.domains
        domains[gtid.domain] = gtid
        return MariaGtidPos(tuple(sorted(domains.values(), key=lambda g: g.domain)))

    def reached(self, target: MariaGtidPos) -> bool:
        """Whether this position is at or past ``target`` in every domain ``target`` has."""
        mine = self.domains
        return all(d in mine and mine[d].seq >= g.seq for d, g in target.domains.items())

    def behind(self, server: MariaGtidPos) -> list[MariaGtid]:
        """The GTIDs of this position that ``server`` (its ``@@gtid_binlog_pos``) has not
        got to yet: a resume cannot start there until it has."""
        have = server.domains
        return [g for g in self.gtids if g.domain in have and have[g.domain].seq < g.seq]

    def start_on(self, server: MariaGtidPos) -> MariaGtidPos:
        """The position to ask ``server`` for, to continue after this position there.

        A domain this position does not have never reached the server it was taken on
        (a replica's own writes), so the stream starts at the server's end of it rather
        than from its very beginning; a domain the server has never seen can bring
        nothing from it and is left out (MariaDB refuses a start in a domain it lacks).
        """
        mine = self.domains
        have = server.domains
        start = [mine.get(d, g) for d, g in have.items()]
        return MariaGtidPos(tuple(sorted(start, key=lambda g: g.domain)))


@dataclasses.dataclass(frozen=True)
class GtidSet:
    """A MySQL GTID set: per source (uuid, tag), sorted disjoint intervals [start, end]."""

    sources: tuple[tuple[tuple[str, str], tuple[tuple[int, int], ...]], ...] = ()

    @classmethod
    def parse(cls, text: str) -> GtidSet:
        found: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for part in (p.strip() for p in text.replace("\n", "").split(",")):
            if not part:
                continue
            fields = part.split(":")
            if not _UUID.match(fields[0]) or len(fields) < 2:
                raise _bad(text, "MySQL", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18")
            sid = str(uuid.UUID(fields[0]))
            tag = ""
            for field in fields[1:]:
                if _TAG.match(field):
                    tag = field.lower()
                    found.setdefault((sid, tag), [])
                    continue
                match = _INTERVAL.match(field)
                if match is None:
                    raise _bad(text, "MySQL", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18")
                lo = int(match.group(1))
                hi = int(match.group(2) or lo)
                if lo < 1 or hi < lo:
                    raise _bad(text, "MySQL", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")
                found.setdefault((sid, tag), []).append((lo, hi))
        return cls._of(found)

    @classmethod
    def _of(cls, found: dict[tuple[str, str], list[tuple[int, int]]]) -> GtidSet:
        sources = []
        for key in sorted(found):
            merged: list[tuple[int, int]] = []
            for lo, hi in sorted(found[key]):
                if merged and lo <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
                else:
                    merged.append((lo, hi))
            if merged:
                sources.append((key, tuple(merged)))
        return cls(tuple(sources))

    def __str__(self) -> str:
        out = []
        for (sid, tag), intervals in self.sources:
            text = ":".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)
            out.append(f"{sid}:{tag + ':' if tag else ''}{text}")
        return ",".join(out)

    def __bool__(self) -> bool:
        return bool(self.sources)

    def _map(self) -> dict[tuple[str, str], list[tuple[int, int]]]:
        return {key: list(intervals) for key, intervals in self.sources}

    def contains(self, other: GtidSet) -> bool:
        """Whether every GTID of ``other`` is in this set (GTID_SUBSET(other, self))."""
        mine = dict(self.sources)
        for key, intervals in other.sources:
            have = mine.get(key, ())
            for lo, hi in intervals:
                if not any(a <= lo and hi <= b for a, b in have):
                    return False
        return True

    def union(self, other: GtidSet) -> GtidSet:
        found = self._map()
        for key, intervals in other.sources:
            found.setdefault(key, []).extend(intervals)
        return GtidSet._of(found)

    def add(self, sid: str, gno: int, tag: str = "") -> GtidSet:
        """This set with one more GTID (a transaction the stream has read to its end)."""
        return self.union(GtidSet((((sid, tag), ((gno, gno),)),)))

    def encode(self) -> bytes:
        """The set as COM_BINLOG_DUMP_GTID carries it: the number of sources (8 bytes),
        then per source its 16-byte uuid, the number of intervals (8) and each interval
        as start and exclusive end (8 + 8), all little-endian."""
        if any(tag for (_, tag), _ in self.sources):
            raise BinlogError(
                f"The GTID set {str(self)[:200]} holds tagged GTIDs (MySQL 8.4), which "
                "django_ghost cannot send in a binlog dump request; run without gtid."
            )
        out = [struct.pack("<Q", len(self.sources))]
        for (sid, _), intervals in self.sources:
            out.append(uuid.UUID(sid).bytes)
            out.append(struct.pack("<Q", len(intervals)))
            out += [struct.pack("<QQ", lo, hi + 1) for lo, hi in intervals]
        return b"".join(out)
