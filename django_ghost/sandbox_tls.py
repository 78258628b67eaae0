"""Certificates for a sandbox server that requires TLS (``Sandbox(tls=True)``).

``openssl`` makes a private CA, a server certificate for ``127.0.0.1`` and ``localhost``
and a client certificate, all signed by that CA, in ``<sandbox>/tls``. The server then
starts with them and ``require_secure_transport=ON``: every TCP session must be
encrypted (unix-socket sessions count as secure, so the sandbox's own set-up through
the socket still works). Test-only: the keys are unencrypted and the CA is throwaway.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

DAYS = "3650"


class TlsSetupError(RuntimeError):
    """openssl is missing or failed; the message says which step."""


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one sandbox."""

    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str

    def server_args(self) -> list[str]:
        return [
            f"--ssl-ca={self.ca}",
            f"--ssl-cert={self.server_cert}",
            f"--ssl-key={self.server_key}",
            "--require-secure-transport=ON",
        ]

    def client_ssl(self) -> dict[str, str]:
        """``MySQLdb.connect(ssl=...)``: the CA and the client certificate."""
        return {"ca": self.ca, "cert": self.client_cert, "key": self.client_key}


def _openssl(*args: str, cwd: Path) -> None:
    binary = shutil.which("openssl") or "/usr/bin/openssl"
    try:
        subprocess.run(
            [binary, *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
        )
    except FileNotFoundError:
        raise TlsSetupError("openssl is not installed (apt-get install openssl).") from None
    except subprocess.CalledProcessError as exc:
        raise TlsSetupError(f"openssl {args[0]} failed: {exc.stderr.strip()}") from None


def _signed(directory: Path, name: str, subject: str, extensions: str) -> None:
    """``<name>-key.pem`` and ``<name>-cert.pem`` signed by the CA in ``directory``."""
    (directory / f"{name}.ext").write_text(extensions)
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
        "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-CAcreateserial", "-days", DAYS, "-sha256", "-extfile", f"{name}.ext",
        "-out", f"{name}-cert.pem",
        cwd=directory,
    )  # fmt: skip


def make_certificates(directory: Path) -> TlsFiles:
    """Create (or reuse) the CA, server and client certificates in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(
        ca=str(directory / "ca.pem"),
        server_cert=str(directory / "server-cert.pem"),
        server_key=str(directory / "server-key.pem"),
        client_cert=str(directory / "client-cert.pem"),
        client_key=str(directory / "client-key.pem"),
    )
    if all(Path(path).exists() for path in dataclasses.astuple(files)):
        return files
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", DAYS, "-sha256",
        "-subj", "/CN=django-ghost sandbox CA", "-keyout", "ca-key.pem", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    leaf = "basicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    _signed(
        directory,
        "server",
        "/CN=localhost",
        leaf + "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    _signed(directory, "client", "/CN=ghost", leaf + "extendedKeyUsage=clientAuth\n")
    return files
