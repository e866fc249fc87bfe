"""The ``odse`` command line: transform, validate, run, report, sources, mapping, schema,
version, docs.

``main`` is the console script (``pyproject.toml``: ``odse = "odse.cli:main"``) and the body
of ``python -m odse``. Modules: ``app`` (the group, global options, failure handling),
``errors`` (messages and exit codes), ``console`` (stderr lines, the progress display),
``run_report`` (``--report FILE``), and one module per command: ``transform``, ``validate``
(with ``record_files`` reading its inputs), ``sources``, ``mapping``, ``schema``,
``version``, ``docs``, ``run`` (pipelines), each imported when its command is used. Only
click is imported at start-up; pyarrow and the engine load when a command runs, so ``odse
--help`` is fast. See ``odse docs cli``.
"""

from __future__ import annotations

import click

from odse import without_pandas
from odse.cli.app import cli

COMMANDS = {
    "transform": "odse.cli.transform:transform_command",
    "validate": "odse.cli.validate:validate_command",
    "sources": "odse.cli.sources:sources_group",
    "mapping": "odse.cli.mapping:mapping_group",
    "schema": "odse.cli.schema:schema_command",
    "run": "odse.cli.run:run_command",
    "report": "odse.cli.report:report_command",
    "version": "odse.cli.version:version_command",
    "docs": "odse.cli.docs:docs_command",
}
"""Each command and where it is defined (``module:attribute``), imported on first use."""
cli.add_lazy(COMMANDS)


def main(argv: list[str] | None = None) -> int:
    """Run the command line (the ``odse`` console script) and return its exit code.

    ``main(["transform", "-s", "huawei", "-i", "export.csv", "-o", "out.jsonl"])`` from
    Python returns 0, 1, 2 or 3 (see docs/cli.md) instead of leaving the interpreter.
    While it runs, pyarrow in this process is told that pandas is not installed (see
    :mod:`odse.without_pandas`), which is undone before it returns.
    """
    without_pandas.block()
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
        without_pandas.allow()
    return 0


__all__ = ["cli", "main"]
