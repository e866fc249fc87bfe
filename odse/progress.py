"""Where a long write is: a hook that a progress display can listen to.

The library never prints progress. A writer calls :func:`phase` when it starts a phase
(``writing``, ``merging``, ``committing``) and :func:`advance` as it finishes items of it;
both do nothing unless a listener is installed with :func:`listening` (the command line's
progress display does that). Calls may come from worker threads, so a listener must be
cheap and thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, int, "int | None"], None]
"""``listener(phase, done, total)``: ``done`` items advanced (0 when a phase starts)."""

_listener: Listener | None = None


def phase(name: str, total: int | None = None) -> None:
    """Announce that phase ``name`` starts, with ``total`` items to do when known."""
    if _listener is not None:
        _listener(name, 0, total)


def advance(name: str, n: int = 1) -> None:
    """Report ``n`` more items of phase ``name`` done."""
    if _listener is not None:
        _listener(name, n, None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Install ``listener`` for the duration of a ``with`` block (one at a time)."""
    global _listener  # noqa: PLW0603 - one process-wide hook, set by the command line only
    saved, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = saved
