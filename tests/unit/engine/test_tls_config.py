"""TLS options (gh-ost's --ssl*): validation, the CLI flags, and what each driver gets."""

from __future__ import annotations

import dataclasses
import ssl
from pathlib import Path

import pymysql
import pytest

from django_ghost.cli.args import parse_args
from django_ghost.cli.flags import rejected_flags
from django_ghost.engine.binlog.transport import tls_failure
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import ConfigError
from django_ghost.engine.mysql.connection import ConnectionSpec, TlsSettings
from django_ghost.sandbox_tls import TlsFiles, make_certificates

TLS_FLAGS = ("ssl", "ssl-ca", "ssl-cert", "ssl-key", "ssl-allow-insecure")


@pytest.fixture(scope="module")
def pems(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def test_cli_flags__ssl_flags__parsed_as_options_and_no_longer_refused() -> None:
    options = parse_args(
        [
            "--ssl",
            "--ssl-ca=/ca.pem",
            "--ssl-cert=/c.pem",
            "--ssl-key=/k.pem",
            "--ssl-allow-insecure",
        ]
    ).options
    assert (options["ssl"], options["ssl_allow_insecure"]) == (True, True)
    assert (options["ssl_ca"], options["ssl_cert"], options["ssl_key"]) == (
        "/ca.pem",
        "/c.pem",
        "/k.pem",
    )
    assert not set(TLS_FLAGS) & set(rejected_flags())


@pytest.mark.parametrize("option", ["ssl_ca", "ssl_cert", "ssl_key", "ssl_allow_insecure"])
def test_validate__ssl_option_without_ssl__refused_naming_it(option: str) -> None:
    value: object = True if option == "ssl_allow_insecure" else "/x.pem"
    with pytest.raises(ConfigError, match=f"{option} needs ssl"):
        GhostConfig(**{option: value}).validate()


def test_validate__client_cert_without_key__refused() -> None:
    with pytest.raises(ConfigError, match="ssl_cert and ssl_key go together"):
        GhostConfig(ssl=True, ssl_cert="/c.pem").validate()


def test_spec_from_config__ssl_off__no_tls() -> None:
    assert ConnectionSpec.from_config(GhostConfig()).tls is None


def test_spec_from_config__missing_ca_file__refused_naming_option(tmp_path: Path) -> None:
    config = GhostConfig(ssl=True, ssl_ca=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError, match="ssl_ca=.*nope.pem.*no such file"):
        ConnectionSpec.from_config(config)


def test_spec_from_config__verifying__mysqlclient_verify_identity(pems: TlsFiles) -> None:
    config = GhostConfig(
        ssl=True, ssl_ca=pems.ca, ssl_cert=pems.client_cert, ssl_key=pems.client_key, password="pw"
    )
    spec = ConnectionSpec.from_config(config)
    assert spec.tls == TlsSettings(pems.ca, pems.client_cert, pems.client_key, verify=True)
    params = spec.tls.mysqlclient_params()
    assert params == {
        "ssl": {"ca": pems.ca, "cert": pems.client_cert, "key": pems.client_key},
        "ssl_mode": "VERIFY_IDENTITY",
    }
    moved = spec.with_host("db2", 3307)
    assert moved.tls == spec.tls and "pw" not in repr(moved) and "(TLS)" in moved.describe()


def test_ssl_context__verifying__chain_and_host_name_checked(pems: TlsFiles) -> None:
    context = TlsSettings(ca=pems.ca, cert=pems.client_cert, key=pems.client_key).ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1


def test_ssl_context__allow_insecure__nothing_verified() -> None:
    spec = ConnectionSpec.from_config(GhostConfig(ssl=True, ssl_allow_insecure=True))
    assert spec.tls is not None
    assert spec.tls.mysqlclient_params() == {"ssl": {}, "ssl_mode": "REQUIRED"}
    context = spec.tls.ssl_context()
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


def test_spec_from_config__init_command__carried() -> None:
    spec = ConnectionSpec.from_config(GhostConfig(init_command="SET @a = 1"))
    assert dataclasses.replace(spec, host="x").init_command == "SET @a = 1"


def test_tls_failure__certificate_refused_wrapped_by_pymysql__not_a_lost_connection() -> None:
    wrapped = pymysql.err.OperationalError(2003, "Can't connect: certificate verify failed")
    wrapped.original_exception = ssl.SSLCertVerificationError("certificate verify failed")  # type: ignore[attr-defined]
    assert tls_failure(wrapped)
    assert not tls_failure(pymysql.err.OperationalError(2003, "Connection refused"))
