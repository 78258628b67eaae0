"""Configuration layers: each overrides the one below; unknown keys and bad values fail."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_ghost.conf import (
    env_var_names,
    merge_settings,
    parse_ghost_migrate,
    resolve,
)
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.control.metrics import MetricsReporter
from django_ghost.engine.errors import ConfigError

DB: dict[str, Any] = {
    "ENGINE": "django_ghost.backends.mysql",
    "HOST": "db.example",
    "PORT": "3307",
    "USER": "app",
    "PASSWORD": "s3cret",
    "NAME": "shop",
}


def _resolve(
    *,
    settings_ghost: dict[str, Any] | None = None,
    alias_ghost: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    flags: dict[str, Any] | None = None,
) -> Any:
    settings_dict = {**DB, "GHOST": alias_ghost or {}}
    with override_settings(GHOST=settings_ghost or {}):
        return resolve("default", overrides=flags, settings_dict=settings_dict, environ_=env or {})


def test_resolve__no_layers__defaults_and_connection_from_databases() -> None:
    config = _resolve()
    assert (config.engine.host, config.engine.port, config.engine.user) == (
        "db.example",
        3307,
        "app",
    )
    assert config.engine.database == "shop"
    assert config.engine.chunk_size == 5000
    assert config.provenance["chunk_size"] == "default"
    assert config.provenance["host"] == "DATABASES['default']"


def test_resolve__settings_ghost__overrides_default() -> None:
    config = _resolve(settings_ghost={"chunk_size": 2000, "min_table_rows": 5})
    assert config.engine.chunk_size == 2000
    assert config.options.min_table_rows == 5
    assert config.provenance["chunk_size"] == "settings.GHOST"


def test_resolve__alias_ghost__overrides_settings_ghost() -> None:
    config = _resolve(settings_ghost={"chunk_size": 2000}, alias_ghost={"chunk_size": 3000})
    assert config.engine.chunk_size == 3000
    assert config.provenance["chunk_size"] == "DATABASES['default']['GHOST']"


def test_resolve__global_env__overrides_alias_ghost() -> None:
    config = _resolve(alias_ghost={"chunk_size": 3000}, env={"GHOST_CHUNK_SIZE": "4000"})
    assert config.engine.chunk_size == 4000
    assert config.provenance["chunk_size"] == "env GHOST_CHUNK_SIZE"


def test_resolve__alias_env__overrides_global_env() -> None:
    env = {"GHOST_CHUNK_SIZE": "4000", "GHOST_DEFAULT__CHUNK_SIZE": "5000"}
    config = _resolve(env=env)
    assert config.engine.chunk_size == 5000
    assert config.provenance["chunk_size"] == "env GHOST_DEFAULT__CHUNK_SIZE"


def test_resolve__flags__override_env() -> None:
    config = _resolve(env={"GHOST_DEFAULT__CHUNK_SIZE": "5000"}, flags={"chunk_size": "6000"})
    assert config.engine.chunk_size == 6000
    assert config.provenance["chunk_size"] == "ghost_migrate flags"


def test_resolve__env_bool_and_django_option__typed_by_schema() -> None:
    config = _resolve(env={"GHOST_CHECKSUM": "no", "GHOST_INSTANT_DDL": "false"})
    assert config.engine.checksum is False
    assert config.options.instant_ddl is False


def test_resolve__env_bad_bool__error() -> None:
    with pytest.raises(ConfigError, match="not a boolean"):
        _resolve(env={"GHOST_CHECKSUM": "maybe"})


def test_resolve__unknown_key_in_settings__error_with_suggestion() -> None:
    with pytest.raises(ConfigError, match="'chunk_siz'.*Did you mean 'chunk_size'"):
        _resolve(settings_ghost={"chunk_siz": 1})


def test_resolve__unknown_alias_env_var__error() -> None:
    with pytest.raises(ConfigError, match="GHOST_DEFAULT__CHUNKS"):
        _resolve(env={"GHOST_DEFAULT__CHUNKS": "1"})


def test_resolve__unknown_global_env_var__ignored() -> None:
    assert _resolve(env={"GHOST_TEST_DSN": "mysql://x"}).engine.chunk_size == 5000


def test_resolve__per_run_option_in_settings__error() -> None:
    with pytest.raises(ConfigError, match="chooses for each table"):
        _resolve(alias_ghost={"table": "x"})


def test_resolve__bad_choice__error() -> None:
    with pytest.raises(ConfigError, match="batch='table'"):
        _resolve(flags={"batch": "table"})


def test_rows__password__redacted_with_source() -> None:
    rows = {name: (value, source) for name, value, source in _resolve().rows()}
    assert rows["password"] == ("********", "DATABASES['default']")


def test_env_var_names__alias_with_dash__sanitised() -> None:
    assert env_var_names("chunk_size", "read-1") == ("GHOST_CHUNK_SIZE", "GHOST_READ_1__CHUNK_SIZE")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("false", False),
        ("0", False),
    ],
)
def test_parse_ghost_migrate__accepted_values__tri_state(
    raw: str | None, expected: bool | None
) -> None:
    assert parse_ghost_migrate(raw) is expected


@pytest.mark.parametrize("raw", ["yes", "maybe", "2", "on"])
def test_parse_ghost_migrate__other_value__error_naming_accepted(raw: str) -> None:
    with pytest.raises(ConfigError, match="use true or 1.*false or 0.*unset"):
        parse_ghost_migrate(raw)


def test_merge_settings__nested_override__merged_without_mutating_base() -> None:
    base = {"default": {"NAME": "a", "GHOST": {"chunk_size": 1, "batch": "operation"}}}
    merged = merge_settings(base, {"default": {"GHOST": {"chunk_size": 2}}})
    assert merged["default"] == {"NAME": "a", "GHOST": {"chunk_size": 2, "batch": "operation"}}
    assert base["default"]["GHOST"]["chunk_size"] == 1


def test_resolve__resume_in_a_layer__error_chosen_per_table() -> None:
    with pytest.raises(ConfigError, match="chooses for each table"):
        _resolve(settings_ghost={"resume": True})


def test_resolve__resume_env_vars__resume_interrupted_read_and_resume_ignored() -> None:
    assert _resolve().options.resume_interrupted is True
    config = _resolve(env={"GHOST_RESUME": "true", "GHOST_RESUME_INTERRUPTED": "false"})
    assert config.options.resume_interrupted is False
    assert config.engine.resume is False


def _never_sampled() -> Any:
    raise AssertionError("the reporter samples only once started")


def test_resolve__metrics_options_in_settings_ghost__reach_the_engine_config(
    tmp_path: Any,
) -> None:
    prom = str(tmp_path / "ghost.prom")
    config = _resolve(
        settings_ghost={
            "statsd_addr": "127.0.0.1:8125",
            "statsd_tags": "env:prod,service:shop",
            "prometheus_file": prom,
        },
        env={"GHOST_RUNTIME_METRICS_INTERVAL": "0"},
    )
    engine = config.engine
    assert (engine.statsd_addr, engine.statsd_tags) == ("127.0.0.1:8125", "env:prod,service:shop")
    assert (engine.prometheus_file, engine.runtime_metrics_interval) == (prom, 0)
    assert config.provenance["statsd_addr"] == "settings.GHOST"
    # The engine's reporter, built from that config as a migration builds it.
    reporter = MetricsReporter(engine, MigrationContext(engine), snapshot=_never_sampled)
    assert reporter.statsd is not None
    assert reporter.statsd.destination == ("127.0.0.1", 8125)
    assert ("env", "prod") in reporter.statsd.tags


def test_resolve__bad_statsd_addr_in_settings__error_names_it() -> None:
    with pytest.raises(ConfigError, match="statsd-addr"):
        _resolve(settings_ghost={"statsd_addr": "localhost"})
