"""Locate the data folders that ship with odse: ``mappings/`` and ``schemas/``.

In a wheel they are installed under ``odse/_data/``; in a source checkout (or an editable
install) they are the repository's top-level folders.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder ``name`` (``mappings`` or ``schemas``) shipped with odse."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"odse data folder '{name}' is missing from the installation")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Return a JSON Schema from ``schemas/`` by file name (``energy-timeseries.json``)."""
    with open(data_dir("schemas") / name, encoding="utf-8") as fh:
        return json.load(fh)
