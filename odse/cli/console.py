"""What the commands print on stderr: notes, the summary line and the progress bar.

stdout carries only data (records, reports, specs), so that ``odse transform ... -o - |
odse validate -i -`` works; everything meant for a person goes to stderr.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import click

from odse.cli import errors

PROGRESS_MIN_BYTES = 8 << 20
"""Inputs smaller than this [bytes] are quick: no progress bar."""
PROGRESS_ENV = "ODSE_PROGRESS"
"""``ODSE_PROGRESS=1`` forces the bar (even off a terminal), ``0`` disables it."""


def note(text: str) -> None:
    """Print an informational line on stderr, prefixed ``odse:``."""
    click.echo(f"odse: {text}", err=True)


def warn(text: str) -> None:
    """Print a warning line on stderr."""
    click.echo(f"odse: warning: {text}", err=True)


def binary_stdin() -> Any:
    """Return stdin as a binary stream (for ``-i -``); refuse a terminal, which would hang."""
    try:
        interactive = sys.stdin.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if interactive:
        errors.fail("-i - reads the data from stdin, but stdin is the terminal; pipe it in "
                    "(odse transform ... -o - | odse validate -i -) or give a file")
    return getattr(sys.stdin, "buffer", sys.stdin)


def want_progress(quiet: bool, size: int | None) -> bool:
    """Return True when a progress bar helps: stderr is a terminal and the input is large."""
    forced = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if quiet or forced in ("0", "false", "no"):
        return False
    if forced in ("1", "true", "yes"):
        return True
    if size is None or size < PROGRESS_MIN_BYTES:
        return False
    stream = sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def with_progress(batches: Any, report: Any, label: str, enabled: bool) -> Iterator[Any]:
    """Yield the batches, advancing a byte-based progress bar on stderr when enabled.

    batches: an iterator of record batches (the transform's stream).
    report: the transform's report, whose ``bytes_read`` and ``input_bytes`` drive the bar.
    """
    if not enabled:
        yield from batches
        return
    total = report.input_bytes or 0
    with click.progressbar(length=max(total, 1), label=label, file=sys.stderr,
                           show_eta=True, show_percent=True, width=30) as bar:
        shown = 0
        for batch in batches:
            now = min(report.bytes_read or 0, total)
            if now > shown:
                bar.update(now - shown)
                shown = now
            yield batch
        if total > shown:
            bar.update(total - shown)


class Stopwatch:
    """Seconds since creation, for the summary line."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __str__(self) -> str:
        return f"{time.perf_counter() - self.start:.2f} s"


def plural(n: int, noun: str, many: str | None = None) -> str:
    """Return ``1 row`` / ``2 rows``."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"
