"""Find the input files of a pipeline and read what their paths say (site, date, ...).

Inputs are local folders, local globs (``data/*/*.csv``) or URI prefixes that
``pyarrow.fs`` opens (``s3://bucket/prefix``, ``file:///...``). Hidden files and folders
(names starting with ``.`` or ``_``) are never inputs.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from dataclasses import dataclass, field
from typing import Any

from odse.errors import InputError
from odse.pipeline.spec import Input, PipelineSpec, Reader, Site

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Found:
    """One input file and what the spec says about it."""

    uri: str
    """Where the file is: a local absolute path, or the URI it was listed under."""
    rel: str
    """Its path below its input (``/``-separated): what patterns and rules match."""
    size: int
    mtime_ns: int | None = None
    fields: dict[str, str] = field(default_factory=dict)
    asset_id: str | None = None
    site: Site | None = None
    reader: Reader | None = None
    skip: str | None = None
    """Why the file is not ingested (no match, unknown site, no source), or None."""


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Turn ``{asset_id}/{date}.csv`` into a regular expression with named groups.

    ``{name}`` matches one path segment or part of one; ``*`` any text within a segment;
    ``**`` any number of segments.
    """
    out, pos, names = "", 0, set()
    tokens = re.finditer(r"\{[^}]*\}|\*\*/?|\*|\?", pattern)
    for token in tokens:
        out += re.escape(pattern[pos:token.start()])
        text = token.group()
        if text.startswith("{"):
            match = _PLACEHOLDER.fullmatch(text)
            if match is None:
                raise ValueError(f"{text} is not a placeholder (use {{name}})")
            name = match.group(1)
            if name in names:
                raise ValueError(f"{{{name}}} appears twice")
            names.add(name)
            out += f"(?P<{name}>[^/]+?)"
        elif text.startswith("**"):
            out += "(?:.*/)?" if text.endswith("/") else ".*"
        elif text == "*":
            out += "[^/]*"
        else:
            out += "[^/]"
        pos = token.end()
    out += re.escape(pattern[pos:])
    if "{" in pattern[pos:] or "}" in pattern[pos:]:
        raise ValueError("unbalanced { or }")
    return re.compile(out)


def discover(spec: PipelineSpec) -> list[Found]:
    """List every file of every input, in a stable order, with its site and reader."""
    found: list[Found] = []
    seen: set[str] = set()
    for inp in spec.inputs:
        pattern = compile_pattern(inp.pattern) if inp.pattern else None
        for uri, rel, size, mtime in _list(inp):
            if uri in seen:
                continue
            seen.add(uri)
            item = Found(uri, rel, size, mtime)
            if pattern is not None:
                match = pattern.fullmatch(rel)
                if match is None:
                    item.skip = f"path does not match the pattern {inp.pattern!r}"
                    found.append(item)
                    continue
                item.fields = {k: v for k, v in match.groupdict().items() if v is not None}
            _assign(spec, item)
            found.append(item)
    return found


def _assign(spec: PipelineSpec, item: Found) -> None:
    asset_id = item.fields.get("asset_id")
    item.asset_id = asset_id
    if spec.sites:
        if asset_id is None:
            item.skip = "no {asset_id} in the path to find its site"
            return
        item.site = spec.sites.get(asset_id)
        if item.site is None:
            item.skip = f"site {asset_id!r} is not in the sites table"
            return
    if item.site is not None and item.site.reader is not None:
        item.reader = item.site.reader
        return
    name = item.rel.rsplit("/", 1)[-1]
    for rule in spec.rules:
        if fnmatch.fnmatchcase(item.rel, rule.match) or fnmatch.fnmatchcase(name, rule.match):
            item.reader = rule.reader
            return
    item.skip = "no source for this file (no site source and no sources rule matches)"


def _hidden(rel: str) -> bool:
    return any(part.startswith((".", "_")) for part in rel.split("/"))


def _stat(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def _list(inp: Input) -> list[tuple[str, str, int, int | None]]:
    """(uri, relative path, size, mtime) of the files of one input, sorted by path."""
    path = inp.path
    if "://" in path:
        return _list_uri(inp)
    if any(ch in path for ch in "*?["):
        base = _glob_base(path)
        out = []
        for name in glob.glob(path, recursive=True):
            if os.path.isfile(name):
                rel = os.path.relpath(name, base).replace(os.sep, "/")
                if not _hidden(rel):
                    out.append((os.path.abspath(name), rel, *_stat(name)))
        return sorted(out, key=lambda t: t[1])
    if os.path.isfile(path):
        return [(os.path.abspath(path), os.path.basename(path), *_stat(path))]
    if not os.path.isdir(path):
        raise InputError(f"input folder not found: {path}", code="INPUT_NOT_FOUND", file=path,
                         key_path=inp.key_path, hint="Check inputs[].path in the pipeline spec "
                                                     "(relative paths start at its folder)")
    out = []
    root = os.path.abspath(path)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_"))) if inp.recursive \
            else []
        # the folder below the input, once per folder (relpath per file costs a fleet's
        # nightly no-op run more than its stat calls)
        below = folder[len(root):].lstrip(os.sep).replace(os.sep, "/")
        prefix = f"{below}/" if below else ""
        for name in files:
            if name.startswith((".", "_")):
                continue
            full = os.path.join(folder, name)
            try:
                out.append((full, prefix + name, *_stat(full)))
            except OSError:
                continue  # vanished while listing
    return sorted(out, key=lambda t: t[1])


def _glob_base(path: str) -> str:
    parts = path.replace(os.sep, "/").split("/")
    fixed = []
    for part in parts:
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    return "/".join(fixed) or "."


def _list_uri(inp: Input) -> list[tuple[str, str, int, int | None]]:
    import pyarrow.fs as pafs

    try:
        fs, root = pafs.FileSystem.from_uri(inp.path)
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=inp.recursive))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot list input {inp.path}: {exc}", code="INPUT_UNREADABLE",
                         file=inp.path, key_path=inp.key_path,
                         hint="Check the URI and the credentials in the environment") from None
    scheme = inp.path.split("://", 1)[0]
    out = []
    prefix = root.rstrip("/")
    for info in infos:
        if info.type != pafs.FileType.File:
            continue
        rel = info.path[len(prefix):].lstrip("/")
        if _hidden(rel):
            continue
        uri = info.path if isinstance(fs, pafs.LocalFileSystem) else f"{scheme}://{info.path}"
        out.append((uri, rel, int(info.size or 0), info.mtime_ns))
    return sorted(out, key=lambda t: t[1])


def open_bytes(uri: str) -> bytes:
    """Read a whole input file (local path or URI)."""
    if "://" not in uri:
        with open(uri, "rb") as fh:
            return fh.read()
    import pyarrow.fs as pafs

    fs, path = pafs.FileSystem.from_uri(uri)
    with fs.open_input_stream(path) as stream:
        return stream.read()


def describe(item: Found) -> dict[str, Any]:
    """What discovery found about a file, as plain data."""
    return {"uri": item.uri, "rel": item.rel, "size": item.size, "asset_id": item.asset_id,
            "source": item.reader.source if item.reader else None, "skip": item.skip}
