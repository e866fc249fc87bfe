"""The command group: help, version, start-up imports, failure handling and exit codes."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from odse import __version__
from odse.cli import cli, errors
from odse.errors import InputNotFoundError, MappingError, OutputError, TransformError


def invoke(*args: str, **kwargs: object) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), **kwargs)


def test_version_prints_odse_and_the_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"odse {__version__}\n"
    assert __version__ == "0.1.0"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_commands_in_workflow_order(flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1]
    positions = [commands.index(f"  {name} ") for name in
                 ("transform", "validate", "sources", "mapping", "schema")]
    assert positions == sorted(positions)
    assert "Exit codes: 0 success, 1 data failed" in result.stdout
    assert result.stderr == ""


def test_no_command_shows_the_help_as_a_usage_error() -> None:
    result = invoke()
    assert result.exit_code == 2
    assert "Usage: odse [OPTIONS] COMMAND" in result.output


def test_a_misspelled_command_is_suggested() -> None:
    result = invoke("transfrom")
    assert result.exit_code == 2
    assert "Error: No such command 'transfrom'. Did you mean 'transform'?" in result.stderr


@pytest.mark.parametrize("command", ["transform", "validate", "sources", "mapping", "schema"])
def test_every_command_has_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert f"Usage: odse {command}" in result.stdout


def _printed_by(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported yet) and return what it printed."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_the_cli_imports_neither_pyarrow_nor_the_engine_at_start_up() -> None:
    code = ("import sys, odse.cli; "
            "heavy = [m for m in ('pyarrow', 'odse.api', 'odse.mapping', 'odse.validation', "
            "'odse.writers', 'yaml', 'jsonschema') if m in sys.modules]; print(heavy)")
    assert _printed_by(code) == "[]"


def test_a_command_loads_its_own_module_only() -> None:
    # `odse run` from cron, mostly with nothing new, does not pay for the other commands
    code = ("import sys\nfrom odse.cli import main\nmain(['run', '--help'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('odse.cli.') and m not in "
            "('odse.cli.app', 'odse.cli.errors', 'odse.cli.console')))")
    assert _printed_by(code).splitlines()[-1] == "['odse.cli.run']"


def test_python_dash_m_odse_is_the_same_command_line() -> None:
    out = subprocess.run([sys.executable, "-m", "odse", "--version"], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0
    assert out.stdout == f"odse {__version__}\n"


# ------------------------------------------------------------------ failures and exit codes

def _failing_command(exc: BaseException) -> click.Command:
    @click.command("boom")
    def boom() -> None:
        raise exc

    return boom


@pytest.fixture
def boom(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def install(exc: BaseException) -> None:
        monkeypatch.setitem(cli.commands, "boom", _failing_command(exc))

    return install


@pytest.mark.parametrize(("exc", "code", "message"), [
    (MappingError("bad spec", file="m.yaml", line=3, key_path="fields.kWh", hint="Fix it"),
     2, "Error: m.yaml:3: bad spec (at fields.kWh). Fix it\n"),
    (InputNotFoundError("file not found: x.csv", file="x.csv", hint="Check the path"),
     3, "Error: file not found: x.csv. Check the path\n"),
    (OutputError("cannot write", file="out/"), 3, "Error: cannot write (file out/)\n"),
    (TransformError("no value", code="MISSING_VALUE", row=3, column="power"), 1,
     "Error: a row was rejected and --strict stops at the first: no value (row 3, column "
     "power). Fix the input, or drop --strict to write the good rows and list the rejected "
     "ones with --rejects FILE\n"),
])
def test_an_expected_failure_is_one_error_line_and_its_exit_code(
        boom, exc: Exception, code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    boom(exc)
    result = invoke("boom")
    assert result.exit_code == code
    assert result.stderr == message
    assert "Traceback" not in result.output


def test_a_bug_is_an_internal_error_with_exit_70_and_no_traceback(boom) -> None:  # type: ignore[no-untyped-def]
    boom(ZeroDivisionError("division by zero"))
    result = invoke("boom")
    assert result.exit_code == errors.INTERNAL == 70
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: internal error: ZeroDivisionError: division by zero"
    assert lines[1].startswith(f"This is a bug in odse {__version__}. Please report it")
    assert "run it again as 'odse --debug COMMAND ...' (or with ODSE_DEBUG=1)." in lines[1]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_prints_the_traceback(boom, how: str) -> None:  # type: ignore[no-untyped-def]
    boom(ZeroDivisionError("division by zero"))
    args, env = (("--debug", "boom"), {}) if how == "flag" else (("boom",), {"ODSE_DEBUG": "1"})
    result = invoke(*args, env=env)
    assert result.exit_code == 70
    assert "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: division by zero" in result.stderr


def test_an_unwrapped_os_error_is_an_io_failure(boom) -> None:  # type: ignore[no-untyped-def]
    boom(PermissionError(13, "Permission denied", "/data/lake"))
    result = invoke("boom")
    assert result.exit_code == 3
    assert result.stderr == ("Error: Permission denied (/data/lake). Check the path, the "
                             "permissions and the free space\n")


def test_interrupt_exits_130(boom) -> None:  # type: ignore[no-untyped-def]
    boom(KeyboardInterrupt())
    result = invoke("boom")
    assert result.exit_code == 130
    assert result.stderr == "Error: interrupted\n"


def test_a_closed_stdout_exits_141_quietly(boom) -> None:  # type: ignore[no-untyped-def]
    boom(BrokenPipeError(32, "Broken pipe"))
    result = invoke("boom")
    assert result.exit_code == 141
    assert result.stderr == ""


def test_the_library_log_is_restored_after_a_command(boom) -> None:  # type: ignore[no-untyped-def]
    import logging

    logger = logging.getLogger("odse")
    before = (logger.propagate, list(logger.handlers), logger.level)
    boom(ValueError("x"))
    invoke("boom")
    invoke("--debug", "boom")
    assert (logger.propagate, list(logger.handlers), logger.level) == before


def test_render_keeps_facts_the_message_does_not_state() -> None:
    exc = InputNotFoundError("file not found: a.csv", file="a.csv", row=4, value="N/A")
    assert errors.render(exc) == "file not found: a.csv (row 4, value 'N/A')"


def test_version_command_prints_the_bare_version() -> None:
    result = CliRunner().invoke(cli, ["version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{__version__}\n"


def test_main_returns_the_exit_code_from_python(tmp_path, capsys) -> None:
    from odse.cli import main

    assert main(["version"]) == 0
    assert capsys.readouterr().out == f"{__version__}\n"
    assert main(["transform", "-s", "huawei", "-i", str(tmp_path / "missing.csv")]) == 3
    assert "Error:" in capsys.readouterr().err
    assert main(["transform", "-s", "no-such-source", "-i", str(tmp_path)]) == 2
    assert main(["--no-such-option"]) == 2
