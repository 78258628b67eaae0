"""The syntax of the options that hold more than one value: ``max-load`` thresholds,
``host:port`` (``[v6]:port``), replica lists, the StatsD address and its tags. config.py
validates with these; the throttler, the control socket and the topology parse with the
same functions, so a value means the same wherever it is given."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import ConfigError

DEFAULT_PORT = 3306


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


def parse_host_port(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``host[:port]`` (``[v6]:port`` for IPv6) -> (host, port). Raises ValueError."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or str(default_port)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, str(default_port)
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not host[:port]")
    return host, int(port)


def parse_replicas(text: str) -> list[tuple[str, int]]:
    """Parse ``"host1,host2:3307,[::1]:3308"`` into ``[(host, port)]`` (port defaults to
    3306)."""
    result = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        try:
            result.append(parse_host_port(part))
        except ValueError:
            raise ConfigError(
                f"throttle-control-replicas: {part!r} is not host[:port] ([addr]:port for IPv6)."
            ) from None
    return result


def parse_statsd_addr(text: str) -> tuple[str, int] | str | None:
    """``statsd_addr``: ``host:port`` ([v6]:port) for UDP -> (host, port); ``unix:///path``
    or an absolute path for a unix datagram socket -> the path; empty -> None (off)."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("unix://") or text.startswith("/"):
        path = text.removeprefix("unix://")
        if not path.startswith("/"):
            raise ConfigError(f"statsd-addr={text!r}: a unix socket is unix:///absolute/path.")
        return path
    try:
        host, port = parse_host_port(text, default_port=0)
    except ValueError:
        host, port = "", 0
    if not host or not port:
        raise ConfigError(
            f"statsd-addr={text!r} is not host:port (e.g. 127.0.0.1:8125) nor "
            "unix:///path/to/dsd.socket."
        )
    return host, port


_TAG_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*\Z")


def parse_tags(text: str) -> list[tuple[str, str]]:
    """``statsd_tags``: ``"env:prod,service:shop"`` -> [(key, value)], in order. A value
    may contain ':' but none of the characters DogStatsD's line format reserves."""
    tags = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        key, sep, value = part.partition(":")
        if not sep or not _TAG_KEY.match(key) or not value:
            raise ConfigError(
                f"statsd-tags: {part!r} is not key:value (key: letters, digits, _ . - /; "
                "e.g. --statsd-tags=env:prod,service:shop)."
            )
        if any(c in value for c in "|#\n\r"):
            raise ConfigError(f"statsd-tags: the value of {key!r} may not hold | # or a newline.")
        tags.append((key, value))
    return tags
