"""``python -m django_ghost.cli``: the ``django-ghost`` command without its console script."""

import sys

from django_ghost.cli.main import main

sys.exit(main())
