"""Limits that keep hostile or broken input from exhausting the machine.

Each limit has a name, a default and a one-line meaning. A limit that trips raises
:class:`LimitError` (exit code 3, an input failure) naming the limit and how to raise it:
``odse --limit NAME=N ...`` on the command line, ``with odse.limits.override(NAME=N):`` in
Python. The defaults are far above what real exports need (see ``docs/limits.md``).

An input captures the limits in force when it is opened (``InputData.of``), so a stream
returned by ``transform_batches`` keeps them after the ``with`` block ends.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

from odse.errors import InputError, ParameterError
from odse.suggest import did_you_mean


@dataclass(frozen=True)
class Limits:
    """The limits in force (all counts; sizes in bytes)."""

    json_depth: int = 512
    """Nesting depth of a JSON document or line (objects and arrays)."""
    csv_line_bytes: int = 1 << 20
    """Bytes in one physical CSV line; a longer line is a MALFORMED_ROW reject."""
    csv_quoted_lines: int = 50
    """Physical lines one quoted CSV cell may span; an opening quote not closed within
    them is a stray quote: its line is a MALFORMED_ROW reject and reading goes on after it."""
    gzip_ratio: int = 200
    """Decompressed bytes per compressed byte of a gzip input (past ``gzip_floor``)."""
    gzip_floor: int = 64 << 20
    """Decompressed bytes any gzip input may reach, whatever its ratio."""
    spec_nodes: int = 200_000
    """Values in a mapping spec once its YAML aliases are expanded."""
    spec_depth: int = 64
    """Nesting depth of a mapping spec."""
    spec_bytes: int = 4 << 20
    """Size of a mapping spec file."""
    reject_value_chars: int = 200
    """Characters of a raw value kept in a reject (longer values are cut, with a marker)."""


DEFAULT = Limits()
NAMES = tuple(f.name for f in fields(Limits))
_current: contextvars.ContextVar[Limits] = contextvars.ContextVar("odse_limits", default=DEFAULT)


def current() -> Limits:
    """Return the limits in force."""
    return _current.get()


def parse(items: dict[str, Any] | list[str] | tuple[str, ...]) -> dict[str, int]:
    """Check ``NAME=N`` strings (or a dict) and return them as a dict of ints."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        for item in items:
            name, sep, value = str(item).partition("=")
            if not sep:
                raise ParameterError(f"--limit takes NAME=N, got {item!r}", code="BAD_LIMIT",
                                     hint=f"Known limits: {', '.join(NAMES)}")
            pairs.append((name.strip(), value.strip()))
    out: dict[str, int] = {}
    for name, value in pairs:
        if name not in NAMES:
            raise ParameterError(f"there is no limit named '{name}'", code="BAD_LIMIT",
                                 hint=f"{did_you_mean(name, list(NAMES), capital=True)}"
                                      f"Known limits: {', '.join(NAMES)}")
        try:
            number = int(str(value).replace("_", ""))
        except ValueError:
            number = -1
        if number < 1:
            raise ParameterError(f"limit {name} must be a whole number of at least 1, got "
                                 f"{value!r}", code="BAD_LIMIT")
        out[name] = number
    return out


def set_limits(**values: Any) -> None:
    """Change the limits for the rest of this context (the command line's ``--limit``)."""
    _current.set(replace(current(), **parse(values)))


@contextmanager
def override(**values: Any) -> Iterator[Limits]:
    """Raise (or lower) limits inside a ``with`` block: ``override(json_depth=2000)``."""
    token = _current.set(replace(current(), **parse(values)))
    try:
        yield current()
    finally:
        _current.reset(token)


class LimitError(InputError):
    """An input or spec went past one of the limits; the message names it."""

    code = "LIMIT_EXCEEDED"
    exit_code = 3


def exceeded(name: str, what: str, value: int | None = None, **facts: Any) -> LimitError:
    """Build the error for limit ``name``: ``what`` says what went past it."""
    limit = getattr(current(), name)
    return LimitError(
        f"{what} (limit {name}={limit})", code="LIMIT_EXCEEDED", limit=name,
        hint=f"If the input is trusted, raise the limit: odse --limit {name}=N ... on the "
             f"command line, or odse.limits.override({name}=N) in Python", **facts)


def excerpt(text: str | None, size: int | None = None) -> str | None:
    """Return ``text`` cut to ``size`` characters (the reject_value_chars limit) with a
    note of the length it had."""
    if text is None:
        return None
    size = size or current().reject_value_chars
    if len(text) <= size:
        return text
    return f"{text[:size]}... ({len(text):,} characters in all)"
