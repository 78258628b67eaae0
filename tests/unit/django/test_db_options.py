"""DATABASES OPTIONS carried to the engine's connections (db_options.py), or refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_ghost.conf import resolve
from django_ghost.db_options import connection_options
from django_ghost.engine.errors import ConfigError

DB: dict[str, Any] = {"HOST": "db.example", "PORT": "3307", "USER": "app", "PASSWORD": "s3cret"}


def options(**opts: Any) -> dict[str, Any]:
    return connection_options({**DB, "OPTIONS": opts})


def test_connection_options__ssl_dict__verified_tls_with_files() -> None:
    got = options(ssl={"ca": "/ca.pem", "cert": "/c.pem", "key": "/k.pem"})
    assert got["ssl"] is True and got["ssl_allow_insecure"] is False
    assert (got["ssl_ca"], got["ssl_cert"], got["ssl_key"]) == ("/ca.pem", "/c.pem", "/k.pem")
    assert (got["host"], got["port"], got["user"]) == ("db.example", 3307, "app")


@pytest.mark.parametrize(
    ("opts", "insecure"),
    [
        ({"ssl_mode": "REQUIRED"}, True),
        ({"ssl": True}, True),
        ({"ssl_mode": "VERIFY_CA", "ssl": {"ca": "/ca.pem"}}, False),
        ({"ssl_mode": "verify_identity"}, False),
        ({"ssl": {"ca": "/ca.pem", "check_hostname": True}}, False),
    ],
)
def test_connection_options__ssl_mode__gh_ost_verification(
    opts: dict[str, Any], insecure: bool
) -> None:
    got = options(**opts)
    assert (got["ssl"], got["ssl_allow_insecure"]) == (True, insecure)


@pytest.mark.parametrize("opts", [{}, {"ssl_mode": "DISABLED"}, {"ssl": False}])
def test_connection_options__no_tls__no_ssl_options(opts: dict[str, Any]) -> None:
    assert "ssl" not in options(**opts)


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({"compress": True}, "'compress': django_ghost's own connections cannot honour"),
        ({"ssl": {"capath": "/etc/ssl"}}, "'capath'.*takes ca, cert, key"),
        ({"ssl_mode": "PREFERRED"}, "PREFERRED.*cannot be honoured"),
        ({"ssl_mode": "SOMETIMES"}, "'SOMETIMES' is unknown"),
        ({"ssl_mode": "DISABLED", "ssl": {"ca": "/ca.pem"}}, "DISABLED' contradicts"),
        ({"ssl": {"ca": "/ca.pem", "check_hostname": False}}, "check_hostname.*REQUIRED"),
    ],
)
def test_connection_options__unsupported__refused_naming_it(
    opts: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        options(**opts)
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize("name", ["charset", "isolation_level", "connect_timeout"])
def test_connection_options__django_only_option__accepted_not_carried(name: str) -> None:
    got = options(**{name: "utf8mb4" if name == "charset" else 5})
    assert name not in got and "ssl" not in got


def test_connection_options__init_command_and_socket__carried() -> None:
    got = options(init_command="SET sql_mode='STRICT_ALL_TABLES'", unix_socket="/run/m.sock")
    assert got["init_command"] == "SET sql_mode='STRICT_ALL_TABLES'"
    assert got["socket"] == "/run/m.sock"


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "my.cnf"
    path.write_text(text)
    return str(path)


def test_read_default_file__client_group__login_and_tls_with_settings_winning(
    tmp_path: Path,
) -> None:
    path = _file(
        tmp_path,
        "[mysql]\nprompt=x\n[client]\nhost=file-host\nuser=file-user\npassword='p w'\n"
        "port=3399\nssl-ca=/ca.pem\nssl-verify-server-cert\n[django]\nsocket=/s.sock\n",
    )
    got = connection_options(
        {"USER": "app", "OPTIONS": {"read_default_file": path, "read_default_group": "django"}}
    )
    assert (got["host"], got["user"], got["password"], got["port"]) == (
        "file-host",
        "app",
        "p w",
        3399,
    )
    assert got["socket"] == "/s.sock"
    assert (got["ssl"], got["ssl_ca"], got["ssl_allow_insecure"]) == (True, "/ca.pem", False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[client]\nprotocol=pipe\n", "option 'protocol' cannot be honoured"),
        ("!include /etc/other.cnf\n[client]\nuser=u\n", "!include is not followed"),
    ],
)
def test_read_default_file__unsupported__refused_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        connection_options({"OPTIONS": {"read_default_file": _file(tmp_path, text)}})


def test_read_default_file__missing__refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="read_default_file.*cannot read it"):
        connection_options({"OPTIONS": {"read_default_file": str(tmp_path / "none.cnf")}})


def test_resolve__options_ssl__in_engine_config_from_databases() -> None:
    settings_dict = {**DB, "NAME": "shop", "OPTIONS": {"ssl": {"ca": "/ca.pem"}}}
    with override_settings(GHOST={}):
        config = resolve("default", settings_dict=settings_dict, environ_={})
    assert (config.engine.ssl, config.engine.ssl_ca) == (True, "/ca.pem")
    assert config.provenance["ssl_ca"] == "DATABASES['default']"
    assert "s3cret" not in str(config.engine) and "s3cret" not in str(config.engine.redacted())
