"""Sources by name: the built-in mapping files, plus any that packages register.

Names are case-insensitive and every alias a mapping declares works. ``csv``, ``generic``
and ``generic_csv`` are the generic mapper, which needs the caller's column map. Other
packages can add mapping files through the ``odse.mappings`` entry-point group (each entry
point gives a path to a mapping file or a folder of them); a broken one is skipped with a
warning.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from odse.errors import MappingError, UnknownSourceError
from odse.mapping import Mapping, load_mapping
from odse.mapping.generic import GENERIC_NAMES
from odse.resources import data_dir
from odse.suggest import did_you_mean

ENTRY_POINT_GROUP = "odse.mappings"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # the C parser when available


@cache
def _scan() -> tuple[dict[str, Path], dict[Path, str]]:
    """Return every source name and alias with its spec file, and each file's own name."""
    files = sorted(data_dir("mappings").glob("*.yaml")) + _plugin_files()
    names: dict[str, Path] = {}
    own: dict[Path, str] = {}
    for path in files:
        try:
            head = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        except (OSError, yaml.YAMLError) as exc:
            warnings.warn(f"odse: skipping mapping {path}: {exc}", stacklevel=2)
            continue
        if not isinstance(head, dict):
            warnings.warn(f"odse: skipping mapping {path}: not a mapping spec", stacklevel=2)
            continue
        if isinstance(head.get("name"), str):
            own[path] = head["name"].lower()
        for name in [head.get("name"), *(head.get("aliases") or [])]:
            if isinstance(name, str):
                names.setdefault(name.lower(), path)
    return names, own


def _catalogue() -> dict[str, Path]:
    return _scan()[0]


def _plugin_files() -> list[Path]:
    from importlib.metadata import entry_points

    found: list[Path] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = Path(str(ep.load()))
            found += sorted(target.glob("*.yaml")) if target.is_dir() else [target]
        except Exception as exc:  # a broken plugin must not break the rest
            warnings.warn(f"odse: skipping mapping plugin {ep.name}: {exc}", stacklevel=2)
    return found


@cache
def _load(path: Path) -> Mapping:
    return load_mapping(path)


def _named_file(key: str) -> Path | None:
    """The built-in spec file named after ``key``, found without reading every spec.

    The name a built-in file is named for is its own (the tests check that each file is
    named for its source and that no name or alias is claimed twice), so this is what the
    full catalogue would answer.
    """
    if not key.isidentifier():
        return None
    path = data_dir("mappings") / f"{key}.yaml"
    return path if path.is_file() else None


def known_names() -> list[str]:
    """Return every accepted source name and alias, sorted."""
    return sorted({*_catalogue(), *GENERIC_NAMES})


def get(name: str) -> Mapping:
    """Return the compiled mapping of a built-in source (any alias, any case)."""
    return _load(spec_file(name))


def spec_file(name: str) -> Path:
    """Return the spec file of a built-in source (any alias, any case), without compiling it."""
    key = str(name).strip().lower()
    path = _named_file(key) or _catalogue().get(key)
    if path is None:
        canonical = sorted({*_scan()[1].values(), "csv"})
        raise UnknownSourceError(
            f"unknown source '{name}'", code="UNKNOWN_SOURCE",
            hint=f"{did_you_mean(key, known_names(), capital=True)}Known sources: "
                 f"{', '.join(canonical)} (odse.sources() lists their aliases)")
    return path


def sources() -> list[dict[str, Any]]:
    """List the sources: name, aliases, title, parameters and input shapes of each."""
    seen: dict[Path, None] = {}
    for path in _catalogue().values():
        seen.setdefault(path, None)
    out = []
    for path in seen:
        try:
            out.append(_load(path).info())
        except MappingError as exc:
            # one broken (plugin) spec must not hide the others
            warnings.warn(f"odse: skipping mapping {path}: {exc}", stacklevel=2)
    out.append({"name": "csv", "aliases": ["generic", "generic_csv"],
                "title": "Generic CSV (your column map)",
                "description": "Any CSV, mapped by a column map (timestamp, kWh or kW, "
                               "asset_id, error_type, error_code, extra)",
                "params": {}, "variants": [{"name": "csv", "format": "csv",
                                            "description": "your columns"}]})
    return sorted(out, key=lambda s: s["name"])


def source_info(name: str) -> dict[str, Any]:
    """Describe one source (for ``odse sources show NAME``)."""
    if str(name).strip().lower() in GENERIC_NAMES:
        return next(s for s in sources() if s["name"] == "csv")
    return get(name).info()


def is_generic(name: str | None) -> bool:
    """Return True for the names of the generic mapper."""
    return name is not None and str(name).strip().lower() in GENERIC_NAMES
