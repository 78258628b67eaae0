"""The flag-file sources: the panic flag file (aborts at once) and the throttle
flag files (throttle while the file exists). Checked every tick: a file test is cheap."""

from __future__ import annotations

from collections.abc import Callable

from ..context import LiveKnobs, MigrationContext
from .check import ThrottleCheck

FileExists = Callable[[str], bool]


class PanicFlag(ThrottleCheck):
    """``panic_flag_file`` appeared: request an abort (never just a throttle)."""

    name = "panic-flag-file"

    def __init__(self, context: MigrationContext, path: str, file_exists: FileExists):
        self.context = context
        self.path = path
        self.file_exists = file_exists

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        if not self.path or not self.file_exists(self.path):
            return None
        self.context.request_abort(
            f"found panic flag file {self.path}; aborting "
            "(helper tables dropped, original untouched)"
        )
        return "panic flag file found"


class ThrottleFlag(ThrottleCheck):
    """A throttle flag file (``throttle_flag_file`` or ``throttle_additional_flag_file``)
    exists: throttle until it is removed."""

    def __init__(self, name: str, path: str, file_exists: FileExists):
        self.name = name
        self.path = path
        self.file_exists = file_exists

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        if self.path and self.file_exists(self.path):
            return f"flag-file {self.path}"
        return None
