"""The ``odse`` command group: global options, command order, and failure handling.

Every command runs inside :meth:`OdseGroup.invoke`, which turns an expected failure
(:class:`odse.errors.OdseError`) into an ``Error:`` line and its exit code, and anything else
into an internal error (exit 70). Only click and the standard library are imported here, so
``odse --help`` starts fast; the commands import pyarrow and the engine when they run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from odse import __version__
from odse.cli import errors

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"],
                                    "max_content_width": 100}

COMMAND_ORDER = ("transform", "validate", "run", "report", "sources", "mapping", "schema",
                 "version", "docs")
LOG_LEVEL_ENV = "ODSE_LOG_LEVEL"
LOG_LEVELS = ("debug", "info", "warning", "error")


def log_level(ctx: click.Context | None) -> int | None:
    """Return the level for the library's log on stderr, or None to drop it.

    ``--debug`` is DEBUG; ``--log-level`` (or ``ODSE_LOG_LEVEL``) names one; ``-v`` is INFO
    and ``-vv`` DEBUG. Without any of them the log is dropped: the commands print their own
    summary line, which the library's warning would repeat.
    """
    root = ctx.find_root() if ctx is not None else None
    # the group's options are parsed before its callback runs: read them from its params
    obj = dict(root.params) if root is not None else {}
    if errors.debug_enabled(ctx) or obj.get("debug"):
        return logging.DEBUG
    named = obj.get("log_level")
    if named:
        return int(getattr(logging, str(named).upper()))
    verbose = int(obj.get("verbose") or 0)
    if verbose:
        return logging.INFO if verbose == 1 else logging.DEBUG
    return None


@contextmanager
def library_log(level: int | None) -> Iterator[None]:
    """Route the library's ``odse`` logger for one command, and restore it afterwards.

    level: records at this level and above go to stderr; None drops them all.
    """
    logger = logging.getLogger("odse")
    saved = (logger.propagate, logger.level)
    handler: logging.Handler
    if level is not None:
        handler = logging.StreamHandler()  # stderr, looked up when the record is written
        handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
        logger.setLevel(level)
    else:
        handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate, _ = saved
        logger.setLevel(saved[1])


class OdseGroup(click.Group):
    """A click group that lists commands in workflow order and reports failures as decided.

    Commands are named with the module that defines them (:meth:`add_lazy`) and imported
    when used: ``odse run`` from cron, most often with nothing new to ingest, does not load
    the other commands' modules.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}

    def add_lazy(self, commands: dict[str, str]) -> None:
        """Add commands by name, each defined as ``module:attribute``, loaded on first use."""
        self.lazy.update(commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            import importlib

            module, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in self.lazy:
            # an unknown name: load every command, so that click's message offers the
            # nearest one ("Did you mean 'transform'?")
            for name in list(self.lazy):
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(self.commands) | set(self.lazy)
        return sorted(names, key=lambda n: (COMMAND_ORDER.index(n) if n in COMMAND_ORDER
                                            else len(COMMAND_ORDER), n))

    def invoke(self, ctx: click.Context) -> Any:
        from odse.errors import OdseError

        try:
            with library_log(log_level(ctx)):
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except OdseError as exc:
            errors.echo_error(errors.render(exc))
            if errors.debug_enabled(ctx):
                import traceback
                traceback.print_exc()
            ctx.exit(errors.exit_code_of(exc))
        except BrokenPipeError:
            errors.silence_stdout()
            ctx.exit(errors.BROKEN_PIPE)
        except KeyboardInterrupt:
            errors.echo_error("interrupted")
            ctx.exit(errors.INTERRUPTED)
        except OSError as exc:
            # an operating-system failure the engine did not wrap: still an I/O failure
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            errors.echo_error(f"{exc.strerror or exc}{where}. Check the path, the "
                              "permissions and the free space")
            if errors.debug_enabled(ctx):
                import traceback
                traceback.print_exc()
            ctx.exit(errors.IO_FAILURE)
        except Exception as exc:  # anything else is a bug: say so, without a traceback
            ctx.exit(errors.internal_error(exc, errors.debug_enabled(ctx)))


EPILOG = """\b
Examples:
  odse sources
  odse transform -s SOURCE -i export.csv --asset-id SITE-ALPHA -o alpha.jsonl
  odse transform -s SOURCE -i export.json --asset-id SITE-BETA \\
      --param expected_devices=12 -f parquet -o lake/
  odse transform -s SOURCE -i export.csv -o - | odse validate -i -
  odse validate lake/ --level semantic --capacity-kw 10
  odse run pipeline.yaml -j 2

\b
Exit codes: 0 success, 1 data failed (validation, --strict, mapping tests),
2 bad usage / unknown source / bad mapping, 3 input or output failure,
70 internal error. Records go to stdout; messages go to stderr.
Docs: odse docs (the pages ship with odse); this command line: odse docs cli"""


@click.group("odse", cls=OdseGroup, context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.version_option(__version__, "--version", "-V", prog_name="odse",
                      message="%(prog)s %(version)s",
                      help="Print the version (odse X.Y.Z) and exit.")
@click.option("-v", "--verbose", count=True,
              help="Print the library's log on stderr: -v info, -vv debug.")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              envvar=LOG_LEVEL_ENV, metavar="LEVEL",
              help=f"Print the library's log from LEVEL up: {', '.join(LOG_LEVELS)} "
                   f"(also {LOG_LEVEL_ENV}).")
@click.option("--debug", is_flag=True, envvar=errors.DEBUG_ENV,
              help=f"Print tracebacks and debug logs (also {errors.DEBUG_ENV}=1).")
@click.option("--limit", "limit_items", multiple=True, metavar="NAME=N",
              help="Raise (or lower) a safety limit, repeatable: json_depth, csv_line_bytes, "
                   "csv_quoted_lines, gzip_ratio, gzip_floor, spec_nodes, spec_depth, "
                   "spec_bytes, reject_value_chars (see: odse docs limits).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, log_level: str | None, debug: bool,
        limit_items: tuple[str, ...]) -> None:
    """Turn solar, wind and storage exports into validated ODS-E energy records.

    transform reads one OEM export and writes records as JSON Lines, CSV or a
    Hive-partitioned Parquet lake; validate checks records; report writes an
    HTML data-quality page; sources and mapping
    show and test the mapping specs that drive the transform.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["verbose"] = verbose
    ctx.obj["log_level"] = log_level
    if limit_items:
        from odse import limits
        from odse.errors import OdseError

        try:
            limits.set_limits(**limits.parse(list(limit_items)))
        except OdseError as exc:
            errors.fail(errors.render(exc))
