"""The control socket's command language: parsing a line, the dispatch-table entry, the
refusal every handler raises, and the validators of command arguments.

Setters validate with the same ranges and parsers as GhostConfig, so a value refused at
start-up is refused over the socket too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..config import OPTION_RANGES
from ..context import LiveKnobs
from ..errors import ConfigError
from ..option_syntax import parse_replicas

# The numeric live knobs and their ranges: the ranges GhostConfig.validate checks.
KNOB_RANGES: dict[str, tuple[float, float]] = {
    field.name: OPTION_RANGES[field.name]
    for field in dataclasses.fields(LiveKnobs)
    if field.name in OPTION_RANGES
}


class CommandRefused(Exception):
    """A command was malformed or not allowed now; the text is sent back after 'error: '."""


Handler = Callable[[str | None], str]


@dataclasses.dataclass(frozen=True)
class Command:
    """One entry of the dispatch table: every name it answers to, its handler, its help."""

    names: tuple[str, ...]
    handler: Handler
    help: str


def unquote(arg: str) -> str:
    """Strip one pair of matching quotes, as gh-ost unquotes a quoted argument."""
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'`":
        return arg[1:-1]
    return arg


def parse_command_line(line: str) -> tuple[str, str | None]:
    """``"chunk-size = 500"`` -> ``("chunk-size", "500")``; no ``=`` -> argument None."""
    name, sep, arg = line.strip().partition("=")
    return name.strip().lower(), (unquote(arg.strip()) if sep else None)


def any_text(value: str) -> str:
    return value


def check_url(value: str) -> str:
    if value and not value.lower().startswith(("http://", "https://")):
        raise CommandRefused(f"throttle-http={value!r} must start with http:// or https://")
    return value


def check_replicas(value: str) -> str:
    try:
        replicas = parse_replicas(value)
    except ConfigError as exc:
        raise CommandRefused(str(exc)) from None
    return ",".join(f"{host}:{port}" for host, port in replicas)


def article(kind: type) -> str:
    return "an integer" if kind is int else "a number"
