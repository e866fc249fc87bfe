"""``--report FILE``: the run report as JSON, for programs (the summary line is for people).

The dict is :meth:`odse.report.Report.to_dict` for ``transform`` (the same as
``rows.report.to_dict()`` in Python) with the command's outputs and phase timings; for
``validate``, the counts and codes of the validation with the inputs. It is written
atomically: a temporary file beside the target, renamed at the end.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from odse.cli import errors


def check_path(path: str | None, *, stdout_taken: bool) -> None:
    """Refuse a report path that cannot be written, before any input is read (exit 2)."""
    if path is None:
        return
    if path == "-":
        if stdout_taken:
            errors.fail("--report - would mix the report into the records on stdout; give a "
                        "file such as --report run.json")
        return
    if os.path.isdir(path):
        errors.fail(f"--report {path} is a folder; give a file such as "
                    f"--report {os.path.join(path, 'report.json')}")


def output_entry(summary: Any, output: str) -> dict[str, Any]:
    """Describe what a writer wrote (from its WriteSummary)."""
    entry: dict[str, Any] = {"path": "-" if output == "-" else output,
                             "format": summary.format, "kind": "records",
                             "records": summary.rows_written}
    if summary.format == "parquet":
        entry.update(mode=summary.mode, partitions=len(summary.partitions),
                     files=summary.files_written, duplicates_dropped=summary.duplicates_dropped,
                     rows_replaced=summary.rows_replaced)
    return entry


def error_entry(exc: Any) -> dict[str, Any]:
    """Describe the failure that stopped a run: code, message (as printed), exit code."""
    return {"code": getattr(exc, "code", None), "message": errors.render(exc),
            "exit_code": errors.exit_code_of(exc)}


def bare(input_path: str) -> dict[str, Any]:
    """What a report knows of a run that failed before the input was opened."""
    from odse import __version__

    return {"odse_version": __version__, "inputs": [{"path": input_path, "size": None,
                                                      "sha256": None}]}


def write(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON to ``path`` (``-``: stdout), atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    if path == "-":
        import click

        click.echo(text, nl=False)
        return
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                   dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        errors.fail(f"cannot write the report {path}: {exc.strerror or exc}. Check the path "
                    "and the permissions", errors.IO_FAILURE)
