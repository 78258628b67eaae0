"""Production: secrets must come from the environment; a more careful django_ghost.

Only the keys that differ from ``base`` are restated. django_ghost's
``merge_settings`` helper (docs/django.md) would merge them key by key; until it is
part of a release the example merges the two dicts by hand, which is equivalent here
because both are flat.
"""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import DATABASES, GHOST, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")

# A busy primary with replicas: smaller chunks, less replica lag tolerated.
GHOST = {**GHOST, "chunk_size": 1_000, "max_lag_millis": 1_000}
DATABASES["default"]["GHOST"] = {**DATABASES["default"]["GHOST"], "min_table_rows": 100_000}
