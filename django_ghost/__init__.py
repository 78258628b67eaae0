"""django_ghost: online schema migrations for Django on MySQL and MariaDB.

Importing the package loads nothing else: the engine must stay usable without Django.
"""

__version__ = "0.1.0"
