"""The ``odse`` command line: transform, validate, run, report, sources, mapping, schema,
version, docs.

``main`` is the console script (``pyproject.toml``: ``odse = "odse.cli:main"``) and the body
of ``python -m odse``. Modules: ``app`` (the group, global options, failure handling),
``errors`` (messages and exit codes), ``console`` (stderr lines, the progress display),
``run_report`` (``--report FILE``), and one module per command: ``transform``, ``validate``
(with ``record_files`` reading its inputs), ``sources``, ``mapping``, ``schema``,
``version``, ``docs``, ``run`` (pipelines). Only click is imported at start-up; pyarrow and
the engine load when a command runs, so ``odse --help`` is fast. See ``odse docs cli``.
"""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any

import click

from odse.cli.app import cli
from odse.cli.docs import docs_command
from odse.cli.mapping import mapping_group
from odse.cli.report import report_command
from odse.cli.run import run_command
from odse.cli.schema import schema_command
from odse.cli.sources import sources_group
from odse.cli.transform import transform_command
from odse.cli.validate import validate_command
from odse.cli.version import version_command

cli.add_command(transform_command)
cli.add_command(validate_command)
cli.add_command(sources_group)
cli.add_command(mapping_group)
cli.add_command(schema_command)
cli.add_command(run_command)
cli.add_command(report_command)
cli.add_command(version_command)
cli.add_command(docs_command)


def main(argv: list[str] | None = None) -> int:
    """Run the command line (the ``odse`` console script) and return its exit code.

    ``main(["transform", "-s", "huawei", "-i", "export.csv", "-o", "out.jsonl"])`` from
    Python returns 0, 1, 2 or 3 (see docs/cli.md) instead of leaving the interpreter.
    While it runs, pyarrow in this process is told that pandas is not installed (see
    ``_without_pandas``), which is undone before it returns.
    """
    finder = _without_pandas()
    try:
        cli.main(args=argv, prog_name="odse")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        click.echo(code, err=True)
        return 1
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
    return 0


def _without_pandas() -> _NoPandas:
    # pyarrow imports pandas (a quarter of a second) the first time it turns a Python list
    # into an array, only to ask whether the list is a pandas object. No command handles
    # pandas objects, so the command line's own process tells pyarrow there is no pandas.
    finder = _NoPandas()
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, finder)
    return finder


def allow_pandas() -> None:
    """Let this process import pandas after all (``odse run --engine spark``: pyspark's
    Arrow functions need it on the driver)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _NoPandas)]


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("the odse command line does without pandas", name=name)


__all__ = ["cli", "main"]
