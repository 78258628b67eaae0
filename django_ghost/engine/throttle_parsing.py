"""Parsers for the throttle settings given as text: load thresholds and control replicas.

Config validation, the control socket and the throttler itself all parse with these, so a
value is accepted or rejected the same way wherever it is set.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ConfigError


def parse_load(text: str, *, name: str = "max-load") -> dict[str, int]:
    """Parse ``"Threads_running=25,Threads_connected=500"`` into ``{name: threshold}``.

    Empty text means no thresholds. Raises ConfigError naming the bad part.
    """
    result: dict[str, int] = {}
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        var, sep, value = part.partition("=")
        var, value = var.strip(), value.strip()
        if not sep or not var or not value:
            raise ConfigError(
                f"{name}: {part!r} is not Variable=Threshold; e.g. {name}=Threads_running=25."
            )
        if not var.replace("_", "").isalnum():
            raise ConfigError(f"{name}: {var!r} is not a status variable name.")
        try:
            threshold = int(value)
        except ValueError:
            raise ConfigError(f"{name}: threshold {value!r} of {var} is not an integer.") from None
        if threshold < 0:
            raise ConfigError(f"{name}: threshold of {var} must not be negative.")
        result[var] = threshold
    return result


def format_load(load: Mapping[str, int]) -> str:
    """The inverse of parse_load, in a canonical form."""
    return ",".join(f"{k}={v}" for k, v in load.items())


def parse_replicas(text: str) -> list[tuple[str, int]]:
    """Parse ``"host1,host2:3307"`` into ``[(host, port)]`` (port defaults to 3306)."""
    result = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        host, sep, port_text = part.rpartition(":")
        if not sep:
            host, port_text = part, "3306"
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(f"throttle-control-replicas: bad port in {part!r}.") from None
        if not host or not 1 <= port <= 65535:
            raise ConfigError(f"throttle-control-replicas: {part!r} is not host[:port].")
        result.append((host, port))
    return result
