"""A ``DATABASES`` entry's login and ``OPTIONS`` as engine connection options.

Django hands ``OPTIONS`` to ``MySQLdb.connect``; the engine opens its own sessions (and a
binlog dump over PyMySQL), so what those options mean is carried over here, once, into
engine options (``conf.connection_layer`` uses :func:`connection_options`):

- ``ssl`` (a dict: ``ca``, ``cert``, ``key``, ``check_hostname``; or ``True``/``False``)
  and ``ssl_mode`` become gh-ost's ``ssl``, ``ssl_ca``, ``ssl_cert``, ``ssl_key``,
  ``ssl_allow_insecure`` (:func:`_tls`);
- ``read_default_file`` (and ``read_default_group``) is read as mysqlclient does: the
  ``[client]``, ``[client-server]``, ``[client-mariadb]`` groups and the named one, in
  file order; values in ``DATABASES``/``OPTIONS`` win over the file's (:func:`read_option_file`);
- ``init_command`` runs first on every engine session; ``unix_socket`` is the socket.

``charset``, ``isolation_level``, ``connect_timeout``, ``autocommit`` and ``use_unicode``
concern Django's own connection and are deliberately not carried: the engine's sessions
use its ``charset`` option (utf8mb4 by default, a superset, so no value changes), their
own isolation levels and the ``mysql_timeout`` option. Any other option is refused with
a ConfigError naming it, never dropped. Passwords never appear in a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django_ghost.engine.errors import ConfigError

NOT_CARRIED = frozenset(
    {"charset", "isolation_level", "connect_timeout", "autocommit", "use_unicode"}
)
CARRIED = frozenset(
    {"ssl", "ssl_mode", "read_default_file", "read_default_group", "init_command", "unix_socket"}
)
SSL_KEYS = frozenset({"ca", "cert", "key", "check_hostname"})
SSL_MODES = ("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
OPTION_GROUPS = ("client", "client-server", "client-mariadb")
# Option file key -> engine option (values as written); the ssl ones are handled apart.
FILE_KEYS = {
    "host": "host",
    "port": "port",
    "user": "user",
    "password": "password",
    "socket": "socket",
    "database": "database",
    "init-command": "init_command",
}
FILE_SSL_KEYS = {"ssl-ca": "ca", "ssl-cert": "cert", "ssl-key": "key"}
FILE_SWITCHES = ("ssl", "skip-ssl", "ssl-verify-server-cert", "disable-ssl-verify-server-cert")
FILE_NOT_CARRIED = ("default-character-set", "connect-timeout")
_REMEDY = "See docs/django.md (Connection OPTIONS) for what django_ghost carries over."


def connection_options(settings_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Engine options for a ``DATABASES`` entry: login, socket, TLS, init_command."""
    options = dict(settings_dict.get("OPTIONS") or {})
    unknown = sorted(set(options) - CARRIED - NOT_CARRIED)
    if unknown:
        raise ConfigError(
            f"DATABASES OPTIONS {', '.join(map(repr, unknown))}: django_ghost's own "
            "connections cannot honour this, and dropping it could change how (or to what) "
            f"they connect. Remove it, or run this migration without django_ghost. {_REMEDY}"
        )
    values: dict[str, Any] = {}
    tls: dict[str, Any] = {}
    if options.get("read_default_file"):
        values, tls = read_option_file(
            str(options["read_default_file"]), str(options.get("read_default_group") or "")
        )
    host = str(settings_dict.get("HOST") or "")
    if host.startswith("/"):
        values.update(socket=host, host="localhost")
    elif host:
        values["host"] = host
    for key, name in (("USER", "user"), ("PASSWORD", "password"), ("NAME", "database")):
        if settings_dict.get(key):
            values[name] = str(settings_dict[key])
    if settings_dict.get("PORT"):
        values["port"] = settings_dict["PORT"]
    if options.get("unix_socket"):
        values["socket"] = str(options["unix_socket"])
    if options.get("init_command"):
        values["init_command"] = str(options["init_command"])
    if "port" in values:
        values["port"] = _port(values["port"])
    tls.update(_ssl_option(options))
    return {**values, **_tls(tls)}


def _port(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"DATABASES port {raw!r} is not a number.") from None


def _ssl_option(options: Mapping[str, Any]) -> dict[str, Any]:
    """``OPTIONS["ssl"]`` and ``OPTIONS["ssl_mode"]`` as ``{ca, cert, key, on, mode,
    check_hostname}`` (only what is set)."""
    out: dict[str, Any] = {}
    ssl = options.get("ssl")
    if isinstance(ssl, Mapping):
        bad = sorted(set(ssl) - SSL_KEYS)
        if bad:
            raise ConfigError(
                f"DATABASES OPTIONS['ssl'] key(s) {', '.join(map(repr, bad))}: django_ghost "
                "takes ca, cert, key and check_hostname (gh-ost's --ssl-ca, --ssl-cert, "
                f"--ssl-key). Remove the others. {_REMEDY}"
            )
        out.update({k: str(v) for k, v in ssl.items() if k in ("ca", "cert", "key") and v})
        if "check_hostname" in ssl:
            out["check_hostname"] = bool(ssl["check_hostname"])
        out["on"] = True
    elif isinstance(ssl, bool):
        # mysqlclient 2.2.4+: ssl=True is ssl_mode=REQUIRED, ssl=False is DISABLED.
        out["mode"] = "REQUIRED" if ssl else "DISABLED"
    elif ssl is not None:
        raise ConfigError("DATABASES OPTIONS['ssl'] must be a dict (ca, cert, key) or a boolean.")
    if options.get("ssl_mode"):
        out["mode"] = str(options["ssl_mode"]).upper()
    return out


def _tls(tls: Mapping[str, Any]) -> dict[str, Any]:
    """gh-ost's TLS options from the collected ssl settings.

    gh-ost verifies the server's certificate and host name whenever TLS is on, unless
    ``--ssl-allow-insecure``: REQUIRED (encrypt, verify nothing) maps to that, VERIFY_CA
    and VERIFY_IDENTITY to verifying (the host name too: mysqlclient with MariaDB
    Connector/C checks it for VERIFY_CA as well), and TLS files without a mode to
    verifying, the safe reading."""
    mode = tls.get("mode", "")
    files = {k: tls[k] for k in ("ca", "cert", "key") if tls.get(k)}
    if mode and mode not in SSL_MODES:
        raise ConfigError(f"ssl_mode {mode!r} is unknown; use one of {', '.join(SSL_MODES)}.")
    if mode == "PREFERRED":
        raise ConfigError(
            "ssl_mode 'PREFERRED' (TLS only if the server offers it) cannot be honoured: "
            "django_ghost's connections either require TLS or do without. Use REQUIRED or "
            "VERIFY_IDENTITY (or DISABLED)."
        )
    if mode == "DISABLED":
        if files:
            raise ConfigError(
                "ssl_mode 'DISABLED' contradicts the ssl certificate options given: remove "
                "one or the other."
            )
        return {}
    if not mode and not tls.get("on") and not files:
        return {}
    insecure = mode == "REQUIRED"
    if tls.get("check_hostname") is False and not insecure:
        raise ConfigError(
            "OPTIONS['ssl']['check_hostname']=False cannot be honoured: django_ghost (as "
            "gh-ost) verifies the host name whenever it verifies the certificate. Fix the "
            "certificate's name, or set ssl_mode 'REQUIRED' to verify nothing."
        )
    out: dict[str, Any] = {"ssl": True, "ssl_allow_insecure": insecure}
    out.update({f"ssl_{k}": v for k, v in files.items()})
    return out


def read_option_file(path: str, group: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """``(login options, ssl settings)`` from a MySQL option file, as mysqlclient's
    ``read_default_file`` reads it. Keys it cannot carry are refused, ``!include`` too."""
    groups = (*OPTION_GROUPS, group.lower()) if group else OPTION_GROUPS
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"OPTIONS read_default_file {path!r}: cannot read it ({exc.strerror or exc})."
        ) from None
    values: dict[str, Any] = {}
    tls: dict[str, Any] = {}
    section = ""
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        where = f"read_default_file {path} line {number}"
        if not line or line[0] in "#;":
            continue
        if line.startswith("!"):
            raise ConfigError(f"{where}: {line.split()[0]} is not followed; inline the file.")
        if line.startswith("["):
            section = line.strip("[]").strip().lower()
            continue
        if section not in groups:
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        key = key.lower().replace("_", "-")
        _file_option(key, _unquote(value) if sep else None, values, tls, where)
    return values, tls


def _file_option(
    key: str, value: str | None, values: dict[str, Any], tls: dict[str, Any], where: str
) -> None:
    if key in FILE_KEYS and value is not None:
        values[FILE_KEYS[key]] = value
    elif key in FILE_SSL_KEYS and value is not None:
        tls[FILE_SSL_KEYS[key]] = value
        tls["on"] = True
    elif key in FILE_SWITCHES:
        on = value is None or value.lower() not in ("0", "off", "false")
        if key == "skip-ssl" or (key == "ssl" and not on):
            tls["mode"] = "DISABLED"
        elif key == "ssl":
            tls["on"] = True
        elif (key == "ssl-verify-server-cert") == on:
            tls["mode"] = "VERIFY_IDENTITY"
        else:
            tls["mode"] = "REQUIRED"
    elif key in ("ssl-mode",) and value is not None:
        tls["mode"] = value.upper()
    elif key not in FILE_NOT_CARRIED:
        raise ConfigError(
            f"{where}: option {key!r} cannot be honoured by django_ghost's connections; "
            f"remove it from the file's client groups (or move it to a tool's own group). "
            f"{_REMEDY}"
        )


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value.split(" #", 1)[0].strip()
