"""The throttle checks in gh-ost's order (``Throttler.shouldThrottle``), built from the
static options and the readers a migration wires in. The first check that gives a reason
wins, so a source's place in this list is part of its behaviour.

A new throttle source is a module beside this one with a :class:`ThrottleCheck`, built
here at its place in the list; a reader of a new kind becomes a field of
:class:`ThrottleReaders`.
"""

from __future__ import annotations

import dataclasses
import os

from ..context import MigrationContext
from .check import ThrottleCheck
from .flag import FileExists, PanicFlag, ThrottleFlag
from .forced import ForcedThrottle
from .http import HttpChecker, ThrottleHttp, http_head_status
from .lag import ControlReplicaLag, LagReader, OwnLag, ReplicaLagReader
from .load import CriticalLoad, Hibernation, LoadStatus, MaxLoad, StatusReader
from .options import ThrottleOptions
from .query import ScalarQuery, ThrottleQuery


@dataclasses.dataclass(frozen=True)
class ThrottleReaders:
    """Where the checks read their inputs. Plain callables, so tests pass fakes; a reader
    left None switches its check off."""

    status_reader: StatusReader | None = None
    scalar_query: ScalarQuery | None = None
    http_checker: HttpChecker = http_head_status
    lag_reader: LagReader | None = None
    replica_lag_reader: ReplicaLagReader | None = None
    file_exists: FileExists = os.path.exists


def gh_ost_checks(
    context: MigrationContext, options: ThrottleOptions, readers: ThrottleReaders
) -> list[ThrottleCheck]:
    """Every check, in the order gh-ost evaluates them."""
    status = LoadStatus(readers.status_reader, options.general_interval_seconds)
    hibernation = Hibernation(status)
    return [
        hibernation,
        PanicFlag(context, options.panic_flag_file, readers.file_exists),
        CriticalLoad(
            context,
            status,
            hibernation,
            interval_millis=options.critical_load_interval_millis,
            hibernate_seconds=options.critical_load_hibernate_seconds,
        ),
        ForcedThrottle(),
        ThrottleFlag("throttle-flag-file", options.throttle_flag_file, readers.file_exists),
        ThrottleFlag(
            "throttle-additional-flag-file",
            options.throttle_additional_flag_file,
            readers.file_exists,
        ),
        MaxLoad(status),
        ThrottleQuery(readers.scalar_query, options.general_interval_seconds),
        ThrottleHttp(
            readers.http_checker,
            interval_millis=options.throttle_http_interval_millis,
            timeout_millis=options.throttle_http_timeout_millis,
            ignore_errors=options.ignore_http_errors,
        ),
        OwnLag(readers.lag_reader),
        ControlReplicaLag(readers.replica_lag_reader),
    ]
