"""Production: secrets must come from the environment; a more careful django_ghost.

Only the keys that differ from ``base`` are restated: ``merge_settings`` merges nested
dicts key by key, so the rest of ``GHOST`` and of ``DATABASES["default"]`` (its URL,
``OPTIONS``, its own ``GHOST`` layer) stays as ``base`` built it.
"""

from __future__ import annotations

from django_ghost.conf import merge_settings

from .base import *  # noqa: F403
from .base import DATABASES, GHOST, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")

# A busy primary with replicas: smaller chunks, less replica lag tolerated, and only
# tables of 100,000 rows or more are worth an online copy.
GHOST = merge_settings(GHOST, {"chunk_size": 1_000, "max_lag_millis": 1_000})
DATABASES = merge_settings(DATABASES, {"default": {"GHOST": {"min_table_rows": 100_000}}})
