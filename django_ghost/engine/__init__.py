"""The online migration engine: pure Python, never imports Django.

One package per job, layered one way (bottom to top): ``errors``/``config``, ``mysql``,
``sql``, ``binlog``, ``table``, ``context``, ``progress``/``result``, ``hooks``,
``throttle``, ``apply``, ``copy``, ``verify``, ``topology``, ``cutover``, ``control``,
``state``, ``reporting``, ``migrator``. An import-linter ``layers`` contract holds it
(pyproject.toml). Callers import each name from the module that defines it, e.g.
``from django_ghost.engine.migrator import Migrator``.
"""
