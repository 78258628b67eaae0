"""Configure Django from tests/django_settings.py; unit tests never connect."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
django.setup()
