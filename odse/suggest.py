"""Answer an unknown name with the nearest known one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(name: str, known: Iterable[str]) -> str | None:
    """Return the known name closest to ``name``, or None when nothing is close."""
    matches = difflib.get_close_matches(str(name).lower(), sorted(set(known)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return "did you mean 'x'? " when a close match exists, else an empty string."""
    match = nearest(name, known)
    return f"did you mean '{match}'? " if match else ""
