"""The forced throttle: the operator's ``throttle`` / ``no-throttle`` socket commands, kept
in the live knob ``forced_throttle``."""

from __future__ import annotations

from ..context import LiveKnobs
from .check import ThrottleCheck


class ForcedThrottle(ThrottleCheck):
    """Throttle while the operator says so."""

    name = "forced-throttle"

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        return "commanded by user" if knobs.forced_throttle else None
