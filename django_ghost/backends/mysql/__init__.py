"""ENGINE = "django_ghost.backends.mysql": Django's MySQL backend with online ALTERs."""
