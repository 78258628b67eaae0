"""`make demo`: start the sandbox MariaDB and migrate the example shop through
django_ghost's backend.

The sandbox lives in ``.sandbox/`` at the top of the repository (git ignores it) and is
left running afterwards; ``make sandbox-stop`` stops it. Set ``DATABASE_URL`` to use
your own server instead of the sandbox.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from django_ghost.sandbox import Sandbox  # noqa: E402

DATABASE = "shop"


def database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    box = Sandbox(ROOT / ".sandbox")
    primary = box.start()
    import MySQLdb

    conn = MySQLdb.connect(**primary.connect_kwargs())
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{DATABASE}` CHARACTER SET utf8mb4")
    conn.close()
    print(f"sandbox MariaDB on 127.0.0.1:{primary.port} (data in .sandbox/)")
    return f"mysql://{primary.user}:{primary.password}@{primary.host}:{primary.port}/{DATABASE}"


def manage(*args: str, url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", *args], cwd=HERE, env=env, check=True)


def main() -> int:
    url = database_url()
    manage("migrate", "--noinput", url=url)
    print("\nThe example shop is migrated through ENGINE 'django_ghost.backends.mysql'.")
    print("Stop the sandbox with: make sandbox-stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
