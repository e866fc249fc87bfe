"""What the commands print on stderr: notes, the summary line and the progress display.

stdout carries only data (records, reports, specs), so that ``odse transform ... -o - |
odse validate -i -`` works; everything meant for a person goes to stderr.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import click

from odse.cli import errors

PROGRESS_ENV = "ODSE_PROGRESS"
"""``ODSE_PROGRESS=1`` forces the progress display (even off a terminal), ``0`` disables it."""
PROGRESS_DELAY = 1.0
"""Seconds before the first redraw: a run that finishes sooner shows no progress at all."""
PROGRESS_EVERY = 0.2
"""Seconds between redraws."""


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


def want_progress(quiet: bool) -> bool:
    """Return True when a progress display helps: stderr is a terminal, and not --quiet."""
    forced = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if quiet or forced in ("0", "false", "no"):
        return False
    if forced in ("1", "true", "yes"):
        return True
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """The run's phases and timings, and (when shown) a one-line display on stderr.

    Phases: ``reading+mapping`` while the engine's batches flow into the writer, then the
    writer's own (``writing``, ``merging``, ``committing``, announced through
    :mod:`odse.progress`). Rows and rows per second come from the report; the share of the
    input done from its bytes (compressed bytes for gzip; none for stdin). A thread redraws
    the line every 0.2 s, so phases in which no batch passes still move.
    """

    def __init__(self, report: Any, shown: bool) -> None:
        self.report = report
        self.shown = shown
        self.start = time.perf_counter()
        self.phase = "reading+mapping"
        self.phase_start = self.start
        self.done = 0
        self.total: int | None = None
        self.timings: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False

    def __enter__(self) -> Progress:
        from odse import progress

        self._hook = progress.listening(self.listen)
        self._hook.__enter__()
        if self.shown:
            self._thread = threading.Thread(target=self._loop, name="odse-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._hook.__exit__(*exc)
        self._end_phase()
        self.timings["total"] = round(time.perf_counter() - self.start, 6)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._drawn:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()

    def batches(self, batches: Any) -> Iterator[Any]:
        """Yield the batches (the reading+mapping phase ends with the last)."""
        yield from batches
        self._end_phase()
        self.phase = "writing"  # the writer finishes; a lake writer names its phases

    def listen(self, phase: str, done: int, total: int | None) -> None:
        """The writer's hook: a phase starts (done 0) or advances."""
        if done and phase != self.phase:
            return  # work of a phase not yet shown (partitions staged while reading)
        if phase != self.phase or (done == 0 and total is not None):
            self._end_phase()
            self.phase, self.done, self.total = phase, 0, total
        self.done += done

    def _end_phase(self) -> None:
        now = time.perf_counter()
        key = self.phase.replace("+", "_").replace(" ", "_")
        self.timings[key] = round(self.timings.get(key, 0.0) + now - self.phase_start, 6)
        self.phase_start = now

    def _loop(self) -> None:
        if self._stop.wait(PROGRESS_DELAY):
            return
        while not self._stop.is_set():
            self._draw()
            self._stop.wait(PROGRESS_EVERY)

    def line(self) -> str:
        """The display's text now."""
        now = time.perf_counter()
        rows = self.report.rows_read
        if self.phase == "reading+mapping":
            seconds = max(now - self.start, 1e-9)
            text = f"odse: reading+mapping  {rows:,} rows  {rows / seconds:,.0f} rows/s"
            size = self.report.input_bytes
            if size and self.report.bytes_read:
                share = min(self.report.bytes_read / size, 1.0)
                text += f"  {share:.0%} of {_size(size)}"
                if share >= 0.02:
                    text += f"  eta {_seconds(seconds * (1 - share) / share)}"
            return text
        text = f"odse: {self.phase}"
        if self.total:
            unit = {"merging": "partitions", "committing": "renames"}.get(self.phase, "files")
            text += f"  {min(self.done, self.total):,}/{self.total:,} {unit}"
            if self.done:
                spent = now - self.phase_start
                text += f"  eta {_seconds(spent * (self.total - self.done) / self.done)}"
        return text + f"  ({rows:,} rows read in {_seconds(now - self.start)})"

    def _draw(self) -> None:
        width = shutil.get_terminal_size((100, 24)).columns
        sys.stderr.write("\r\x1b[2K" + self.line()[:max(width - 1, 20)])
        sys.stderr.flush()
        self._drawn = True


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def _seconds(s: float) -> str:
    s = max(0, round(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Stopwatch:
    """Seconds since creation, for the summary line."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        """Seconds since creation."""
        return time.perf_counter() - self.start

    def __str__(self) -> str:
        return f"{self.seconds():.2f} s"


def plural(n: int, noun: str, many: str | None = None) -> str:
    """Return ``1 row`` / ``2 rows``."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"
