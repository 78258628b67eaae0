"""Development: debug on; everything else from base."""

from __future__ import annotations

from .base import *  # noqa: F403

DEBUG = True
