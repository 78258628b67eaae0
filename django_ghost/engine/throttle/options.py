"""The static throttle settings (file paths, intervals, HTTP behaviour) and their defaults.

Live thresholds are not here: they are knobs on ``context.knobs``, changeable over the
control socket while the migration runs.
"""

from __future__ import annotations

import dataclasses

# Options the lead adds to GhostConfig for throttling (name, type, default, validation).
# ThrottleOptions.from_config reads them with these defaults until they exist.
THROTTLE_OPTIONS = """
max_load: str = ""                          # "Var=N,Var2=M"; must parse with parse_load()
critical_load: str = ""                     # same syntax; met -> abort (or hibernate)
critical_load_interval_millis: int = 0      # 0..3_600_000; >0: re-check after it
critical_load_hibernate_seconds: int = 0    # 0..86_400; >0: hibernate instead of aborting
throttle_query: str = ""                    # scalar SQL run on the applier; > 0 throttles
throttle_http: str = ""                     # http(s) URL; "" = off; must start with http:// or https://
throttle_http_interval_millis: int = 100    # 10..3_600_000
throttle_http_timeout_millis: int = 1000    # 10..60_000
ignore_http_errors: bool = False            # connection errors do not throttle
throttle_control_replicas: str = ""         # "host[:port],..." ; each port 1..65535
throttle_flag_file: str = ""                # throttle while this file exists
throttle_additional_flag_file: str = ""   # gh-ost defaults to /tmp/gh-ost.throttle
panic_flag_file: str = ""                   # abort without cleanup when this file appears
"""

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
        """Take every field the config has; the rest keep their defaults (see THROTTLE_OPTIONS)."""
        values = {
            f.name: getattr(config, f.name)
            for f in dataclasses.fields(cls)
            if hasattr(config, f.name)
        }
        return cls(**values)
