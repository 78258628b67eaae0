"""``django-ghost``: the standalone command line, taking gh-ost's flag names.

An existing gh-ost command line should run unchanged::

    django-ghost --host=db1 --user=ghost --ask-pass --database=shop --table=orders \\
        --alter="ADD COLUMN note VARCHAR(100)" --chunk-size=2000 --execute

Every :class:`GhostConfig` field is a flag (``cut_over_lock_timeout_seconds`` →
``--cut-over-lock-timeout-seconds``); gh-ost flags the engine lacks are refused by name
with the reason, so a command line never half-works.

Passwords: ``--password`` works but warns (it is visible in ``ps``); ``--ask-pass``,
``GHOST_PASSWORD`` / ``MYSQL_PWD`` and ``--conf`` (a ``[client]`` option file) keep it off
the command line. Precedence follows the MySQL clients: command line (``--password``,
``--ask-pass``) > ``--conf`` file > ``GHOST_PASSWORD`` > ``MYSQL_PWD``. Nothing printed,
including log records, ever contains it.

Modules: ``main`` (entry point, running, exit codes), ``flags`` (the flag table, gh-ost's
refused flags, --help), ``args`` (argv, option file, layers into a GhostConfig),
``output`` (console, status line printer, summary). This package must not import Django:
it is the engine's own front end (an import-linter contract holds it).
"""
