"""The bench's host: its tools (installed when missing), versions, CPU and load average,
and the run's ``env`` record of them (:func:`environment`).

``make bench`` installs the apt packages itself (the Makefile's ``bench-deps``);
:func:`ensure_tools` does the same for a direct ``python -m bench.run``.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

# command the bench runs -> the Debian package that provides it (Makefile: BENCH_APT)
APT_PACKAGES = {"sysbench": "sysbench", "pt-online-schema-change": "percona-toolkit"}


def ensure_tools() -> None:
    """Install sysbench and percona-toolkit with apt, only when missing (like `make deps`)."""
    missing = [pkg for cmd, pkg in APT_PACKAGES.items() if shutil.which(cmd) is None]
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing: {' '.join(missing)}", flush=True)
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", *missing], check=True, env=env)


def version_of(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not available"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def environment(ghost_bin: str, repo: Path, started: float) -> dict[str, Any]:
    """The host, the tools' versions and the engine's commit, for the results' ``env``."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "loadavg_start": loadavg(),
        "python": platform.python_version(),
        "sysbench": version_of(["sysbench", "--version"]),
        "pt_osc": version_of(["pt-online-schema-change", "--version"]),
        "gh_ost": version_of([ghost_bin, "--version"]) if ghost_bin else "not run",
        "kernel": platform.release(),
        # which engine was measured: HEAD, and whether the tree had uncommitted changes
        "git_head": version_of(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"]),
        "git_dirty": version_of(["git", "-C", str(repo), "status", "--porcelain", "django_ghost"])
        != "unknown",
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started)),
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
