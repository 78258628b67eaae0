"""The static throttle settings (file paths, intervals, HTTP behaviour) and their defaults.

Live thresholds are not here: they are knobs on ``context.knobs``, changeable over the
control socket while the migration runs.
"""

from __future__ import annotations

import dataclasses

# gh-ost evaluates general metrics once a second and decides every 100 ms.
GENERAL_INTERVAL_SECONDS = 1.0
TICK_SECONDS = 0.1


@dataclasses.dataclass(frozen=True)
class ThrottleOptions:
    """The static (not live) throttle settings: file paths, intervals, HTTP behaviour."""

    panic_flag_file: str = ""
    throttle_flag_file: str = ""
    throttle_additional_flag_file: str = ""
    critical_load_interval_millis: int = 0
    critical_load_hibernate_seconds: int = 0
    throttle_http_interval_millis: int = 100
    throttle_http_timeout_millis: int = 1000
    ignore_http_errors: bool = False
    tick_seconds: float = TICK_SECONDS
    general_interval_seconds: float = GENERAL_INTERVAL_SECONDS

    @classmethod
    def from_config(cls, config: object) -> ThrottleOptions:
        """Take every field the config has; the others (the tick and the general interval,
        which are not options) keep their defaults."""
        values = {
            f.name: getattr(config, f.name)
            for f in dataclasses.fields(cls)
            if hasattr(config, f.name)
        }
        return cls(**values)
