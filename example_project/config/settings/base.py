"""Settings shared by every environment of the example shop.

The database comes from ``DATABASE_URL`` (django-environ), read from the environment or
from ``example_project/.env`` (see ``.env.example``). ``make demo`` points it at the
sandbox it starts.

django_ghost's options come in layers, lowest priority first (docs/settings.md lists
every option): the defaults; ``GHOST`` below (every alias); ``DATABASES[alias]["GHOST"]``
(one alias); environment variables ``GHOST_<OPTION>`` and ``GHOST_<ALIAS>__<OPTION>``;
``ghost_migrate`` flags. ``production.py`` changes a few keys on top.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env("DJANGO_SECRET_KEY", default="example-only-not-secret")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # History of online runs (shown in the admin), system checks, `ghost_migrate`.
    "django_ghost",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default="mysql://ghost:ghost-sandbox@127.0.0.1:3306/shop",
        engine="django_ghost.backends.mysql",
    )
}
DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"
# Layer 3, this alias only. Not inside OPTIONS: Django hands OPTIONS to the driver.
DATABASES["default"]["GHOST"] = {
    # Tables with fewer (estimated) rows than this are altered directly.
    "min_table_rows": 10_000,
}

# Layer 2, every alias: engine options named after gh-ost's flags.
GHOST = {
    # Rows per copy chunk (one INSERT ... SELECT inside the server).
    "chunk_size": 5_000,
    # Throttle the row copy while replicas lag more than this.
    "max_lag_millis": 1_500,
    # How long the cut-over may hold its lock before it gives up and retries.
    "cut_over_lock_timeout_seconds": 3,
    # Compare ghost and original before the cut-over (gh-ost has no such check).
    "checksum": True,
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
