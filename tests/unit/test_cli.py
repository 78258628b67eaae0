"""The django-ghost command line without a server: flags, password sources, output."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from django_ghost.cli.args import UsageError, parse_args, read_option_file, resolve
from django_ghost.cli.flags import all_flags, option_flags, rejected_flags
from django_ghost.cli.main import _StopOnSignal, flag_hint, main
from django_ghost.cli.output import (
    Console,
    StatusPrinter,
    format_summary,
    new_table_structure,
    start_logging,
    status_interval,
    stop_logging,
)
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.control.status import format_status_line
from django_ghost.engine.progress import ProgressSnapshot
from django_ghost.engine.result import MigrationResult

TARGET = ["--database=shop", "--table=orders", "--alter=ADD COLUMN note INT"]


def run(argv: list[str], **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    kwargs.setdefault("environ", {})
    code = main(argv, stdout=out, stderr=err, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def no_prompt(prompt: str) -> str:
    raise AssertionError("no password prompt expected")


# -- the flag table ---------------------------------------------------------------------------


def test_option_flags__every_config_field__is_a_flag() -> None:
    flags = option_flags()
    fields = [f.name for f in dataclasses.fields(GhostConfig)]
    assert [flags[f.replace("_", "-")].option for f in fields] == fields


def test_option_flags__field_types__become_flag_kinds() -> None:
    flags = option_flags()
    assert flags["execute"].kind == "bool"
    assert flags["chunk-size"].kind == "int"
    assert flags["nice-ratio"].kind == "float"
    assert flags["alter"].kind == "str"


def test_rejected_flags__config_fields__never_rejected() -> None:
    assert not set(rejected_flags()) & set(all_flags())


def test_parse_args__issue_flags__all_accepted() -> None:
    inv = parse_args(
        [
            "--host=db1",
            "--port=3307",
            "--user=ghost",
            "--password=pw",
            "--database=shop",
            "--table=orders",
            "--alter=ADD COLUMN c INT",
            "--execute",
            "--allow-on-master",
            "--chunk-size=500",
            "--dml-batch-size=50",
            "--initially-drop-ghost-table",
            "--initially-drop-old-table",
            "--ok-to-drop-table",
            "--cut-over-lock-timeout-seconds=5",
            "--approve-renamed-columns",
            "--cut-over=two-step",
            "--max-lag-millis=2000",
        ]
    )
    assert inv.options["port"] == 3307
    assert inv.options["cut_over_lock_timeout_seconds"] == 5
    assert inv.options["cut_over"] == "two-step"
    assert inv.options["ok_to_drop_table"] is True
    assert len(inv.given) == 18


# -- parsing forms ----------------------------------------------------------------------------


def test_parse_args__equals_form__typed_value() -> None:
    assert parse_args(["--chunk-size=2000"]).options == {"chunk_size": 2000}


def test_parse_args__space_form__typed_value() -> None:
    assert parse_args(["--chunk-size", "2000"]).options == {"chunk_size": 2000}


def test_parse_args__single_dash_go_style__accepted() -> None:
    assert parse_args(["-chunk-size", "300", "-execute"]).options == {
        "chunk_size": 300,
        "execute": True,
    }


def test_parse_args__float_option__parsed_as_float() -> None:
    assert parse_args(["--nice-ratio=0.5"]).options == {"nice_ratio": 0.5}


def test_parse_args__negative_number_after_flag__taken_as_value() -> None:
    assert parse_args(["--nice-ratio", "-1"]).options == {"nice_ratio": -1.0}


def test_parse_args__bare_boolean__true() -> None:
    assert parse_args(["--execute"]).options == {"execute": True}


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("false", False), ("0", False)])
def test_parse_args__boolean_with_value__parsed(raw: str, expected: bool) -> None:
    assert parse_args([f"--checksum={raw}"]).options == {"checksum": expected}


def test_parse_args__boolean_bad_value__usage_error() -> None:
    with pytest.raises(UsageError, match=r"--execute.*not a boolean"):
        parse_args(["--execute=maybe"])


def test_parse_args__boolean_then_separate_word__usage_error_suggests_equals() -> None:
    with pytest.raises(UsageError, match=r"write --execute=false instead"):
        parse_args(["--execute", "false"])


def test_parse_args__integer_not_a_number__usage_error_names_flag() -> None:
    with pytest.raises(UsageError, match=r"--chunk-size: chunk_size='lots' must be an integer"):
        parse_args(["--chunk-size=lots"])


def test_parse_args__value_missing_at_end__usage_error() -> None:
    with pytest.raises(UsageError, match=r"--alter needs a value"):
        parse_args(["--alter"])


def test_parse_args__next_token_is_a_flag__usage_error() -> None:
    with pytest.raises(UsageError, match=r"--table needs a value"):
        parse_args(["--table", "--execute"])


def test_parse_args__repeated_flag__last_wins() -> None:
    assert parse_args(["--chunk-size=10", "--chunk-size=20"]).options == {"chunk_size": 20}


def test_parse_args__empty_string_value__kept() -> None:
    assert parse_args(["--socket="]).options == {"socket": ""}


@pytest.mark.parametrize("alias", ["default", ""])
def test_parse_args__cut_over_gh_ost_alias__atomic(alias: str) -> None:
    assert parse_args([f"--cut-over={alias}"]).options == {"cut_over": "atomic"}


def test_parse_args__positional_argument__usage_error() -> None:
    with pytest.raises(UsageError, match=r"unexpected argument 'orders'"):
        parse_args(["orders"])


def test_parse_args__short_h__help() -> None:
    assert parse_args(["-h"]).switches == {"help": True}


# -- rejected and unknown flags ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("skip-renamed-columns", "--approve-renamed-columns"),
        ("skip-strict-mode", "strict SQL mode"),
    ],
)
def test_parse_args__rejected_gh_ost_flag__refused_by_name_with_reason(
    flag: str, reason: str
) -> None:
    with pytest.raises(UsageError) as raised:
        parse_args([f"--{flag}=x"])
    message = str(raised.value)
    assert message.startswith(f"gh-ost flag --{flag} is not supported by django-ghost: ")
    assert reason in message


def test_parse_args__topology_flags__parsed_as_options() -> None:
    options = parse_args(
        [*TARGET, "--test-on-replica", "--assume-master-host=db1:3307", "--master-user=u"]
    ).options
    assert options["test_on_replica"] is True
    assert (options["assume_master_host"], options["master_user"]) == ("db1:3307", "u")


def test_parse_args__trigger_flags__parsed_as_options() -> None:
    options = parse_args(
        [
            *TARGET,
            "--include-triggers",
            "--trigger-suffix=_ght",
            "--remove-trigger-suffix-if-exists",
        ]
    ).options
    assert (options["include_triggers"], options["trigger_suffix"]) == (True, "_ght")
    assert options["remove_trigger_suffix_if_exists"] is True


def test_main__include_triggers_without_suffix__exit_2_naming_the_flag() -> None:
    code, _, err = run([*TARGET, "--include-triggers"])
    assert code == 2
    assert "include_triggers needs trigger_suffix (flag --trigger-suffix" in err


def test_parse_args__rejected_flag_without_value__refused_by_name() -> None:
    with pytest.raises(UsageError, match=r"gh-ost flag --skip-strict-mode is not supported"):
        parse_args([*TARGET, "--skip-strict-mode"])


def test_parse_args__misspelled_flag__suggests_closest() -> None:
    with pytest.raises(
        UsageError, match=r"unknown flag --chunk-sise\. Did you mean --chunk-size\?"
    ):
        parse_args(["--chunk-sise=100"])


def test_parse_args__unrelated_unknown_flag__no_suggestion() -> None:
    with pytest.raises(UsageError) as raised:
        parse_args(["--zzzzzz"])
    assert str(raised.value) == "unknown flag --zzzzzz."


def test_main__rejected_flag__exit_2_message_on_stderr() -> None:
    code, out, err = run([*TARGET, "--skip-renamed-columns"])
    assert code == 2
    assert out == ""
    assert "gh-ost flag --skip-renamed-columns is not supported by django-ghost:" in err


# -- --check-flag, --help, --version ------------------------------------------------------------


def test_main__check_flag_all_known__exit_0() -> None:
    code, _, err = run(["--check-flag", "--cut-over-lock-timeout-seconds", "--nice-ratio", "0"])
    assert (code, err) == (0, "")


def test_main__check_flag_with_rejected_flag__exit_2_names_it() -> None:
    code, _, err = run(
        ["--check-flag", "--chunk-size", "1", "--skip-renamed-columns", "--skip-strict-mode"]
    )
    assert code == 2
    assert "--skip-renamed-columns is not supported" in err
    assert "--skip-strict-mode is not supported" in err


def test_main__check_flag_with_unknown_flag__exit_2() -> None:
    code, _, err = run(["--check-flag", "--no-such-flag", "1"])
    assert code == 2
    assert "unknown flag --no-such-flag" in err


def test_main__help__grouped_by_config_sections_and_lists_every_flag() -> None:
    code, out, _ = run(["--help"])
    assert code == 0
    assert "\nconnection:\n" in out
    assert "\ncut-over:\n" in out
    for name in all_flags():
        assert f"--{name}" in out
    assert "--skip-renamed-columns" in out.split("gh-ost flags not supported")[1]
    assert "--gtid" in out.split("gh-ost flags not supported")[0]


def test_main__version__prints_version() -> None:
    code, out, _ = run(["--version"])
    assert code == 0
    assert out.startswith("django-ghost 0.1.0")


# -- database and table from the ALTER ----------------------------------------------------------


def test_resolve__alter_names_database_and_table__taken_from_it() -> None:
    inv = parse_args(["--alter=ALTER TABLE shop.orders ADD COLUMN c INT"])
    resolved = resolve(inv, {}, no_prompt)
    assert (resolved.config.database, resolved.config.table) == ("shop", "orders")
    assert resolved.origin["table"] == "--alter"


def test_resolve__alter_names_table_only__database_from_flag() -> None:
    inv = parse_args(["--database=shop", "--alter=ALTER TABLE `orders` ADD COLUMN c INT"])
    resolved = resolve(inv, {}, no_prompt)
    assert (resolved.config.database, resolved.config.table) == ("shop", "orders")
    assert resolved.origin["database"] == "command line"


def test_resolve__bare_clauses__nothing_derived() -> None:
    inv = parse_args(["--alter=ADD COLUMN c INT"])
    assert resolve(inv, {}, no_prompt).config.table == ""


def test_main__table_missing__exit_2() -> None:
    code, _, err = run(["--database=shop", "--alter=ADD COLUMN c INT"])
    assert code == 2
    assert "Missing required option(s): table" in err


def test_main__alter_renames_table__exit_1_before_connecting() -> None:
    code, _, err = run(["--alter=ALTER TABLE shop.orders RENAME TO invoices"])
    assert code == 1
    assert "django-ghost: error:" in err
    assert "RENAME" in err.upper()


def test_main__option_out_of_range__exit_2() -> None:
    code, _, err = run([*TARGET, "--chunk-size=1"])
    assert code == 2
    assert "chunk_size=1 is out of range" in err


# -- passwords ----------------------------------------------------------------------------------


def write_conf(tmp_path: Path, text: str, mode: int = 0o600) -> str:
    path = tmp_path / "ghost.cnf"
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def password_of(argv: list[str], environ: dict[str, str], ask: object = no_prompt) -> tuple:
    resolved = resolve(parse_args(argv), environ, ask)  # type: ignore[arg-type]
    return resolved.config.password, resolved.origin["password"]


def test_resolve__mysql_pwd__used() -> None:
    assert password_of([], {"MYSQL_PWD": "m-secret"}) == ("m-secret", "environment MYSQL_PWD")


def test_resolve__ghost_password_and_mysql_pwd__ghost_password_wins() -> None:
    env = {"MYSQL_PWD": "m-secret", "GHOST_PASSWORD": "g-secret"}
    assert password_of([], env)[0] == "g-secret"


def test_resolve__conf_and_environment__conf_wins(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[client]\npassword=c-secret\n")
    assert password_of([f"--conf={conf}"], {"GHOST_PASSWORD": "g-secret"})[0] == "c-secret"


def test_resolve__password_flag_and_conf__flag_wins(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[client]\npassword=c-secret\n")
    assert password_of([f"--conf={conf}", "--password=f-secret"], {}) == (
        "f-secret",
        "command line",
    )


def test_resolve__ask_pass__prompt_answer_beats_everything(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[client]\npassword=c-secret\n")
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return "typed-secret"

    got = password_of(["--ask-pass", f"--conf={conf}"], {"MYSQL_PWD": "x"}, ask)
    assert got == ("typed-secret", "--ask-pass")
    assert prompts == ["Password: "]


def test_resolve__ask_pass_and_password__usage_error() -> None:
    with pytest.raises(UsageError, match="either --password or --ask-pass"):
        resolve(parse_args(["--ask-pass", "--password=x"]), {}, no_prompt)


def test_resolve__password_flag__warns_about_process_list() -> None:
    resolved = resolve(parse_args(["--password=f-secret"]), {}, no_prompt)
    assert any("process list" in w for w in resolved.warnings)
    assert not any("f-secret" in w for w in resolved.warnings)


def test_resolve__environment_password__no_warning() -> None:
    assert resolve(parse_args([]), {"MYSQL_PWD": "m-secret"}, no_prompt).warnings == []


def test_read_option_file__client_section__connection_keys(tmp_path: Path) -> None:
    conf = write_conf(
        tmp_path,
        '# comment\n[mysqld]\nport=1\n[client]\nuser = ghost\npassword = "p#ss word"\n'
        "host=db1   # trailing comment\nport=3307\nsocket=/run/m.sock\nskip-ssl\n"
        "default-character-set=utf8mb4\n!includedir /etc/mysql/conf.d\n",
    )
    assert read_option_file(conf, {}) == {
        "user": "ghost",
        "password": "p#ss word",
        "host": "db1",
        "port": "3307",
        "socket": "/run/m.sock",
    }


def test_read_option_file__env_reference__expanded(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[client]\npassword=${DB_SECRET}\n")
    assert read_option_file(conf, {"DB_SECRET": "s3cret"}) == {"password": "s3cret"}


def test_read_option_file__unset_env_reference__usage_error(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[client]\npassword=${NOPE}\n")
    with pytest.raises(UsageError, match=r"\$\{NOPE\}, which is not set"):
        read_option_file(conf, {})


def test_read_option_file__missing_file__usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        read_option_file(str(tmp_path / "absent.cnf"), {})


def test_resolve__conf_port__typed_and_flags_override(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[client]\nuser=ghost\nhost=db1\nport=3307\n")
    resolved = resolve(parse_args([f"--conf={conf}", "--host=db2"]), {}, no_prompt)
    assert (resolved.config.user, resolved.config.host, resolved.config.port) == (
        "ghost",
        "db2",
        3307,
    )


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_resolve__world_readable_conf__warns(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[client]\npassword=c-secret\n", mode=0o644)
    resolved = resolve(parse_args([f"--conf={conf}"]), {}, no_prompt)
    assert any("chmod 600" in w for w in resolved.warnings)


def test_main__show_config__password_redacted_with_origin() -> None:
    code, out, err = run([*TARGET, "--show-config"], environ={"GHOST_PASSWORD": "g-secret"})
    assert code == 0
    assert "g-secret" not in out + err
    assert "'********'" in out
    assert "(environment GHOST_PASSWORD)" in out
    assert "--chunk-size" in out


def test_main__password_flag__warning_never_shows_password() -> None:
    code, out, err = run([*TARGET, "--password=f-secret-123", "--show-config"])
    assert code == 0
    assert "warning: --password is visible" in err
    assert "f-secret-123" not in out + err


def test_console__secret_in_text__replaced() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out, err)
    console.add_secret("hunter22")
    console.add_secret("ab")  # too short to scrub without garbling other text
    console.out("connect with hunter22 to db at ab")
    console.err("hunter22!")
    assert out.getvalue() == "connect with ******** to db at ab\n"
    assert err.getvalue() == "********!\n"


def test_logging_filter__secret_in_log_record__replaced() -> None:
    err = io.StringIO()
    console = Console(io.StringIO(), err)
    console.add_secret("hunter22")
    setup = start_logging(console, {"verbose": True})
    try:
        logging.getLogger("django_ghost").info("dsn user:%s@host", "hunter22")
    finally:
        stop_logging(setup)
    assert "user:********@host" in err.getvalue()
    assert "hunter22" not in err.getvalue()


# -- status and summary ---------------------------------------------------------------------


def snapshot(**changes: object) -> ProgressSnapshot:
    values: dict[str, object] = {
        "database": "shop",
        "table": "orders",
        "phase": "copying",
        "elapsed_seconds": 12.0,
        "rows_copied": 1200,
        "rows_estimate": 5000,
        "rows_per_second": 3000.0,
        "events_applied": 45,
        "backlog": 3,
        "lag_seconds": 0.12,
        "throttle_reason": None,
        "eta_seconds": 80.0,
    }
    values.update(changes)
    return ProgressSnapshot(**values)  # type: ignore[arg-type]


def test_format_status_line__copying__every_figure_shown() -> None:
    assert format_status_line(snapshot()) == (
        "Copy: 1200/5000 24.0%; Applied: 45; Backlog: 3; Time: 12s; Rate: 3000 rows/s; "
        "Lag: 0.12s; State: copying; ETA: 80s"
    )


def test_format_status_line__throttled_unknown_eta_no_lag__shown_as_such() -> None:
    line = format_status_line(
        snapshot(throttle_reason="max-load", eta_seconds=None, lag_seconds=None)
    )
    assert "ETA: n/a" in line
    assert "Lag: n/a" in line
    assert "State: throttled, max-load" in line


def test_status_interval__long_migration__capped_by_option() -> None:
    assert [status_interval(t, 10) for t in (5, 100, 1000)] == [1.0, 5.0, 10.0]
    assert status_interval(1000, 60) == 30.0


def test_status_printer__cadence__first_interval_and_phase_change_print() -> None:
    out = io.StringIO()
    now = [100.0]
    printer = StatusPrinter(Console(out, io.StringIO()), 10, clock=lambda: now[0])
    printer(snapshot())  # first call prints
    now[0] += 0.5
    printer(snapshot())  # within a second: skipped
    printer(snapshot(phase="catching up"))  # new phase: printed at once
    now[0] += 1.0
    printer(snapshot(phase="catching up"))  # a second later: printed
    assert printer.lines == 3
    assert out.getvalue().count("\n") == 3


def result(**changes: object) -> MigrationResult:
    values: dict[str, object] = {
        "database": "shop",
        "table": "orders",
        "ghost_table": "_orders_gho",
        "old_table": "_orders_del",
        "noop": False,
        "rows_copied": 5000,
        "events_applied": 45,
        "wall_seconds": 12.34,
        "copy_seconds": 10.0,
        "cut_over_stall_seconds": 0.08,
        "cut_over_attempts": 1,
        "checksum_verified": True,
        "new_create_table": "CREATE TABLE `_orders_gho` (\n  `id` int NOT NULL\n)",
    }
    values.update(changes)
    return MigrationResult(**values)  # type: ignore[arg-type]


def test_format_summary__success__figures_and_old_table_advice() -> None:
    text = format_summary(result(), GhostConfig())
    assert "complete in 12.3s" in text
    assert "rows copied:    5,000" in text
    assert "events applied: 45" in text
    assert "stall 0.080s, 1 attempt(s)" in text
    assert "checksum:       verified" in text
    assert "_orders_del kept" in text


def test_format_summary__checksum_off_old_dropped__says_so() -> None:
    text = format_summary(
        result(checksum_verified=False), GhostConfig(checksum=False, ok_to_drop_table=True)
    )
    assert "skipped (--checksum=false)" in text
    assert "_orders_del dropped" in text


def test_format_summary__instant__says_nothing_copied_no_old_table() -> None:
    text = format_summary(result(instant=True, rows_copied=0), GhostConfig())
    assert "ALGORITHM=INSTANT" in text and "nothing was copied" in text
    assert "_orders_del" not in text and "checksum" not in text


def test_new_table_structure__ghost_name__shown_as_original() -> None:
    assert new_table_structure(result()).startswith("CREATE TABLE `orders` (")


def test_flag_hint__engine_message_names_option__flag_given() -> None:
    message = "Table _t_del already exists. Drop it, or set initially_drop_old_table to drop it."
    assert flag_hint(message) == (
        "On the command line: initially_drop_old_table is --initially-drop-old-table."
    )


def test_flag_hint__plain_words__no_hint() -> None:
    assert flag_hint("The ALTER is not valid for table t.") == ""


def test_cli_import__fresh_interpreter__does_not_load_django() -> None:
    code = (
        "import sys, django_ghost.cli.main; "
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_read_option_file__tilde_path__expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_conf(tmp_path, "[client]\nuser=ghost\n")
    assert read_option_file("~/ghost.cnf", {}) == {"user": "ghost"}


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_stop_on_signal__sigterm__sets_stop_event_and_restores_handler() -> None:
    import signal
    import threading

    before = signal.getsignal(signal.SIGTERM)
    stop = threading.Event()
    with _StopOnSignal(stop):
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2.0)
    assert signal.getsignal(signal.SIGTERM) == before


# -- gh-ost flags that change nothing here --------------------------------------------------


def test_main__no_effect_flags__accepted_with_one_notice_each() -> None:
    code, out, err = run(
        [
            *TARGET,
            "--assume-rbr",
            "--checkpoint",
            "--replication-lag-query=select 1",
            "--show-config",
        ]
    )
    assert code == 0 and "--chunk-size" in out
    notices = [line for line in err.splitlines() if "notice:" in line]
    assert len(notices) == 3
    assert "--assume-rbr changes nothing here: " in notices[0]
    assert "--checkpoint changes nothing here: checkpoints are always written" in notices[1]


def test_main__no_effect_flag_set_false_or_quiet__no_notice() -> None:
    _, _, err = run([*TARGET, "--skip-port-validation=false", "--show-config"])
    assert "notice" not in err
    _, _, err = run([*TARGET, "--skip-metadata-lock-check", "--quiet", "--show-config"])
    assert "notice" not in err


def test_main__assume_rbr_with_switch_to_rbr__usage_error() -> None:
    code, _, err = run([*TARGET, "--assume-rbr", "--switch-to-rbr", "--show-config"])
    assert code == 2
    assert "--switch-to-rbr and --assume-rbr are mutually exclusive" in err


def test_parse_args__gh_ost_options_of_this_engine__parsed_as_options() -> None:
    options = parse_args(
        [
            *TARGET,
            "--charset=utf8mb4,utf8,latin1",
            "--mysql-timeout=2.5",
            "--force-table-names=tmp",
            "--timestamp-old-table",
            "--storage-engine=innodb",
            "--binlogsyncer-max-reconnect-attempts=0",
            "--concurrent-rowcount=false",
            "--allow-master-master",
            "--aliyun-rds",
        ]
    ).options
    assert options["charset"] == "utf8mb4,utf8,latin1"
    assert options["mysql_timeout"] == 2.5
    assert (options["force_table_names"], options["timestamp_old_table"]) == ("tmp", True)
    assert options["binlogsyncer_max_reconnect_attempts"] == 0
    assert options["concurrent_rowcount"] is False
    assert options["allow_master_master"] and options["aliyun_rds"]


def test_main__storage_engine_rocksdb__usage_error_saying_why() -> None:
    code, _, err = run([*TARGET, "--storage-engine=rocksdb"])
    assert code == 2
    assert "InnoDB tables only" in err


def test_parse_args__statsd_tags_repeated__joined_like_gh_ost() -> None:
    inv = parse_args(
        ["--statsd-addr=127.0.0.1:8125", "--statsd-tags=env:prod", "--statsd-tags", "service:x"]
    )
    assert inv.options["statsd_tags"] == "env:prod,service:x"
    assert inv.options["statsd_addr"] == "127.0.0.1:8125"


def test_parse_args__other_flag_repeated__last_value_wins() -> None:
    assert parse_args(["--chunk-size=100", "--chunk-size=200"]).options["chunk_size"] == 200
