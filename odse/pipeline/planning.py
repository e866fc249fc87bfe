"""Decide, for every file found, whether this run ingests it and why.

A file is ingested when the lake's ingest log has no entry for it (``new``), or its content
hash, its mapping's hash or its settings (parameters, context, validation) differ from the
last committed entry (``changed``, ``mapping changed``, ``settings changed``). Otherwise it
is skipped as ``unchanged``. Files discovery could not place (no site, no source) are
skipped with that reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odse.errors import OdseError, PipelineError
from odse.pipeline.discovery import Found, discover, open_bytes
from odse.pipeline.ingest_log import IngestLog, read_log
from odse.pipeline.spec import PipelineSpec, Reader, Site

HASH_BLOCK = 1 << 20


@dataclass
class Task:
    """One file to ingest, with everything a worker needs (plain data: it is pickled)."""

    uri: str
    rel: str
    size: int
    mtime_ns: int | None
    sha256: str
    """The content hash; empty for a new file (its worker hashes what it reads)."""
    asset_id: str | None
    source: str | None
    mapping: Any
    mapping_name: str
    mapping_sha256: str
    params: dict[str, Any]
    timezone: str | None
    enrich: dict[str, Any]
    level: str
    invalid: str
    validate_options: dict[str, Any]
    lineage: bool
    settings_sha256: str
    reason: str
    run_id: str = ""


@dataclass
class PlannedFile:
    """A file found and what this run does with it."""

    uri: str
    rel: str
    size: int
    asset_id: str | None
    action: str
    """``ingest`` or ``skip``."""
    reason: str
    task: Task | None = None
    previous: dict[str, Any] | None = None


@dataclass
class Plan:
    """Every file found, in order, with its action."""

    files: list[PlannedFile] = field(default_factory=list)

    @property
    def tasks(self) -> list[Task]:
        """The files to ingest."""
        return [f.task for f in self.files if f.task is not None]

    @property
    def skipped(self) -> list[PlannedFile]:
        """The files not ingested, with their reasons."""
        return [f for f in self.files if f.action == "skip"]


def file_sha256(uri: str) -> str:
    """The SHA-256 of a file's content."""
    digest = hashlib.sha256()
    if "://" in uri:
        digest.update(open_bytes(uri))
        return digest.hexdigest()
    with open(uri, "rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


class _Mappings:
    """Name and hash each reader's mapping once, from its file, without compiling it.

    Compiling (which also checks the parameters) waits for :meth:`check`, called only for
    readers that have files to ingest: a run with nothing new stays quick.
    """

    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.cache: dict[str, tuple[str, str]] = {}
        self.checked: set[str] = set()
        self.by_reader: dict[int, tuple[Reader, tuple[str, str]]] = {}
        self.checked_readers: dict[int, Reader] = {}
        self.settings: dict[tuple[Any, ...], Any] = {}
        """Per site and reader: what :func:`_settings` gives."""

    @staticmethod
    def _key(reader: Reader) -> str:
        return _canonical([reader.source, reader.mapping])

    def identify(self, reader: Reader) -> tuple[str, str]:
        found = self.by_reader.get(id(reader))  # once per file: no JSON key each time
        if found is not None and found[0] is reader:
            return found[1]
        key = self._key(reader)
        if key not in self.cache:
            self.cache[key] = self._guard(reader, lambda: self._identify(reader))
        self.by_reader[id(reader)] = (reader, self.cache[key])
        return self.cache[key]

    def check(self, reader: Reader) -> None:
        """Compile the reader's mapping and check its parameters (once per reader)."""
        if id(reader) in self.checked_readers:
            return
        key = _canonical([reader.source, reader.mapping, reader.params, reader.timezone])
        if key in self.checked:
            self.checked_readers[id(reader)] = reader
            return
        from odse.api import resolve

        def compile_it() -> None:
            mapping = resolve(reader.source, reader.mapping)
            mapping.resolve_params({**self.spec.params, **reader.params,
                                    "timezone": reader.timezone or self.spec.timezone})

        self._guard(reader, compile_it)
        self.checked.add(key)
        self.checked_readers[id(reader)] = reader  # kept, so that its id stays its own

    def _guard(self, reader: Reader, work: Any) -> Any:
        try:
            return work()
        except OdseError as exc:
            parts = reader.key_path.replace("[", ".").replace("]", "").split(".")
            path = tuple(int(p) if p.isdigit() else p for p in parts if p)
            raise self.spec.error(f"{reader.key_path}: {exc.message}", path, exc.hint,
                                  code=exc.code) from None

    def _identify(self, reader: Reader) -> tuple[str, str]:
        from odse import registry

        mapping = reader.mapping
        if mapping is None and registry.is_generic(reader.source):
            raise PipelineError(f"source '{reader.source}' needs a mapping",
                                code="MAPPING_REQUIRED",
                                hint="Add mapping: <file> (a column map such as "
                                     "{timestamp: Time, kWh: Energy}) beside the source")
        if mapping is None:
            path = registry.spec_file(reader.source or "")
            return path.stem, _sha256_file(path)
        if isinstance(mapping, str):
            if not Path(mapping).is_file():
                raise PipelineError(f"mapping file not found: {mapping}",
                                    code="MAPPING_NOT_FOUND", hint="Check the path (relative "
                                    "paths start at the pipeline spec's folder)")
            return Path(mapping).name, _sha256_file(Path(mapping))
        return "inline", hashlib.sha256(_canonical(mapping).encode()).hexdigest()


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plan(spec: PipelineSpec, found: list[Found] | None = None, *,
         rehash: bool = False, log: IngestLog | None = None) -> Plan:
    """Find the files and decide what to do with each.

    A file whose size and modification time equal its log entry's keeps the entry's content
    hash; a file with an entry and another size or time is read and hashed here (to tell a
    touched file from a changed one; ``rehash``: every file with an entry is); a file without
    an entry is new, and is hashed by the worker that reads it. ``log``: the lake's ingest
    log, when the caller has read it already (else it is read here).
    """
    mappings = _Mappings(spec)
    # every source the spec names is checked, whether or not a file needs it tonight
    for reader in [*(s.reader for s in spec.sites.values()), *(r.reader for r in spec.rules)]:
        if reader is not None:
            mappings.identify(reader)
    if found is None:
        found = discover(spec)
    latest = (log if log is not None else read_log(spec.output.path)).latest()
    out = Plan()
    for item in found:
        if item.skip is not None or item.reader is None:
            out.files.append(PlannedFile(item.uri, item.rel, item.size, item.asset_id, "skip",
                                         item.skip or "no source"))
            continue
        previous = latest.get(item.uri)
        known = None
        if previous and not rehash and item.mtime_ns is not None and \
                (previous.get("size"), previous.get("mtime_ns")) == (item.size, item.mtime_ns):
            known = previous.get("sha256")
        task = _task(spec, item, mappings, known, hash_now=previous is not None)
        reason = _reason(task, previous)
        if reason is None:
            assert previous is not None  # a file with no log entry always has a reason: new
            out.files.append(PlannedFile(item.uri, item.rel, item.size, item.asset_id, "skip",
                                         f"unchanged since run {previous['run_id']}",
                                         previous=previous))
            continue
        task.reason = reason
        mappings.check(item.reader)
        out.files.append(PlannedFile(item.uri, item.rel, item.size, item.asset_id, "ingest",
                                     reason, task, previous))
    return out


def _reason(task: Task, previous: dict[str, Any] | None) -> str | None:
    if previous is None:
        return "new"
    if previous.get("sha256") != task.sha256:
        return "content changed"
    if previous.get("mapping_sha256") != task.mapping_sha256:
        return f"mapping {task.mapping_name} changed"
    if previous.get("settings_sha256") != task.settings_sha256:
        return "settings changed"
    return None


def _task(spec: PipelineSpec, item: Found, mappings: _Mappings, sha256: str | None,
          hash_now: bool = True) -> Task:
    reader = item.reader
    if reader is None:  # pragma: no cover - filtered by the caller
        raise PipelineError("no reader")
    name, mapping_hash = mappings.identify(reader)
    params = {**spec.params, **reader.params}
    asset_id = item.asset_id if item.asset_id is not None else params.get("asset_id")
    params.pop("asset_id", None)
    item.asset_id = asset_id
    # the same for every file of a site and reader: worked out once (a fleet's files are
    # its sites' days, and a run with nothing new is mostly this loop)
    key = (asset_id, id(reader), id(item.site))
    settings = mappings.settings.get(key)
    if settings is None:
        settings = mappings.settings[key] = _settings(spec, item.site, reader, asset_id, params)
    timezone, enrich, options, settings_sha256 = settings
    validation = spec.validation
    return Task(uri=item.uri, rel=item.rel, size=item.size, mtime_ns=item.mtime_ns,
                sha256=sha256 or (file_sha256(item.uri) if hash_now else ""),
                asset_id=asset_id, source=reader.source, mapping=reader.mapping,
                mapping_name=name, mapping_sha256=mapping_hash, params=params,
                timezone=timezone, enrich=dict(enrich), level=validation.level,
                invalid=validation.invalid, validate_options=dict(options),
                lineage=spec.output.lineage, settings_sha256=settings_sha256, reason="")


def _settings(spec: PipelineSpec, site: Site | None, reader: Reader, asset_id: str | None,
              params: dict[str, Any]) -> tuple[str | None, dict[str, Any], dict[str, Any], str]:
    """A file's zone, enrichment context, validation options and the hash of its settings."""
    timezone = reader.timezone or spec.timezone
    enrich = {**spec.enrich, **(site.enrich if site else {})}
    validation = spec.validation
    options: dict[str, Any] = {}
    capacity = (site.capacity_kw if site else None) or validation.capacity_kw
    if capacity is not None:
        options["capacity_kw"] = capacity
    if site and site.latitude is not None:
        options["latitude"] = site.latitude
    if site and site.longitude is not None:
        options["longitude"] = site.longitude
    if validation.profile:
        options["profile"] = validation.profile
    settings = _canonical({"asset_id": asset_id, "params": params, "timezone": timezone,
                           "enrich": enrich, "level": validation.level,
                           "invalid": validation.invalid, "options": options,
                           "lineage": spec.output.lineage})
    return timezone, enrich, options, hashlib.sha256(settings.encode()).hexdigest()
