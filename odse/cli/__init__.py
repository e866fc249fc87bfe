"""The ``odse`` command line: transform, validate, sources, mapping, schema.

``main`` is the console script (``pyproject.toml``: ``odse = "odse.cli:main"``) and the body
of ``python -m odse``. Modules: ``app`` (the group, global options, failure handling),
``errors`` (messages and exit codes), ``console`` (stderr lines, progress bar), and one module
per command: ``transform``, ``validate`` (with ``record_files`` reading its inputs),
``sources``, ``mapping``, ``schema``. Only click is imported at start-up; pyarrow and the
engine load when a command runs, so ``odse --help`` is fast. See ``docs/cli.md``.
"""

from __future__ import annotations

from typing import Any

from odse.cli.app import cli
from odse.cli.mapping import mapping_group
from odse.cli.schema import schema_command
from odse.cli.sources import sources_group
from odse.cli.transform import transform_command
from odse.cli.validate import validate_command

cli.add_command(transform_command)
cli.add_command(validate_command)
cli.add_command(sources_group)
cli.add_command(mapping_group)
cli.add_command(schema_command)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (the ``odse`` console script)."""
    return cli.main(args=argv, prog_name="odse")


__all__ = ["cli", "main"]
