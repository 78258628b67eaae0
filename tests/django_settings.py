"""Django settings for django_ghost's own tests.

The database coordinates are placeholders: the integration fixtures
(tests/integration/django/conftest.py) fill in the sandbox's host, port and a fresh
database name at runtime, since the sandbox port is only known then. Unit tests never
connect.
"""

from __future__ import annotations

SECRET_KEY = "django-ghost-tests"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django_ghost",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "tests.integration.django.testapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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
ROOT_URLCONF = "tests.django_urls"
_DB = {
    "HOST": "127.0.0.1",
    "PORT": "3306",
    "USER": "ghost",
    "PASSWORD": "",
    "NAME": "django_ghost_placeholder",
    "OPTIONS": {"charset": "utf8mb4"},
    "TEST": {"NAME": "test_django_ghost_placeholder"},
}
DATABASES = {
    "default": {"ENGINE": "django_ghost.backends.mysql", **_DB},
    # The oracle: Django's own backend, for "same end schema as stock" assertions.
    "stock": {"ENGINE": "django.db.backends.mysql", **_DB, "NAME": "django_ghost_stock"},
}
GHOST: dict[str, object] = {}
