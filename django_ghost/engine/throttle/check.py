"""What one throttle source implements: a named check that returns a throttle reason or
None, plus the small cache the costly checks keep their last answer in.

The throttler runs a list of these in gh-ost's order (see ``order.py``); a source only
answers for itself and never knows where it stands in that list.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from ..context import LiveKnobs


class ThrottleCheck(Protocol):
    """One throttle source. ``check`` returns the reason to throttle, or None to go on."""

    name: str

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        """Evaluate at ``now`` with the live thresholds in ``knobs``."""
        ...

    def heartbeat_allowed(self, now: float) -> bool:
        """False while this source forbids even heartbeats (critical-load hibernation)."""
        return True


@dataclasses.dataclass
class Cached:
    """The last result of a costly check, the input it was computed for, and when."""

    key: object = None
    at: float = float("-inf")
    value: Any = None
