"""Answer an unknown name with the nearest known one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(name: str, known: Iterable[str]) -> str | None:
    """Return the known name closest to ``name`` (ignoring case), or None when none is close."""
    by_folded: dict[str, str] = {}
    for item in sorted(set(known)):
        by_folded.setdefault(item.lower(), item)
    matches = difflib.get_close_matches(str(name).lower(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[matches[0]] if matches else None


def did_you_mean(name: str, known: Iterable[str], *, capital: bool = False) -> str:
    """Return "did you mean 'x'? " when a close match exists, else an empty string.

    Args:
        capital: start with a capital letter, to open a sentence.
    """
    match = nearest(name, known)
    if not match:
        return ""
    return f"{'Did' if capital else 'did'} you mean '{match}'? "
