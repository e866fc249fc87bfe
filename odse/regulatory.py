"""Normalise regulators' notices into the shared regulatory-event envelope.

A format conversion run from data: ``mappings/regulatory/events.yaml`` says, per regulator
(``source``), where each envelope field comes from; this module interprets that table. No
regulator is named here. The envelope is described by ``schemas/regulatory-event.json``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import yaml

from odse.errors import MappingError, UnknownSourceError
from odse.resources import data_dir, load_schema
from odse.suggest import did_you_mean

REGULATORY_EVENT_SCHEMA_VERSION = "regulatory-event.v1"

Value = Callable[[dict[str, Any]], Any]

# the envelope's fields, in the order every event lists them
FIELDS = ("jurisdiction", "regulator", "event_type", "title", "summary", "effective_date",
          "deadline_date", "published_date", "source_url", "source_system",
          "source_record_id", "schema_version", "transform_version")


class RegulatoryEvents(list):
    """The events (a list of dicts), with the input records that gave none in ``rejects``."""

    def __init__(self, events: Iterable[dict[str, Any]] = (),
                 rejects: list[dict[str, Any]] | None = None) -> None:
        super().__init__(events)
        self.rejects: list[dict[str, Any]] = rejects or []


@functools.lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    path = data_dir("mappings") / "regulatory" / "events.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if spec.get("schema_version") != REGULATORY_EVENT_SCHEMA_VERSION:
        raise MappingError(f"{path} describes {spec.get('schema_version')!r}, expected "
                           f"{REGULATORY_EVENT_SCHEMA_VERSION!r}", file=str(path))
    return spec


def regulatory_sources() -> dict[str, list[str]]:
    """Return each regulatory source name with its aliases."""
    return {name: list(s.get("aliases", [])) for name, s in _spec()["sources"].items()}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[^\W_]+", text.lower()))


def _compile(spec: Any, where: str, ctx: dict[str, Any]) -> Value:
    """Compile one value of the table into a function of the input record."""
    if not isinstance(spec, dict) or len(set(spec) - {"default"}) != 1:
        raise MappingError(f"expected one value such as {{column: key}} at {where}, got {spec!r}",
                           key_path=where)
    kind = next(k for k in spec if k != "default")
    arg = spec[kind]
    if kind == "column":
        return lambda record: _text(record.get(arg))
    if kind == "const":
        return lambda record: arg
    if kind == "first":
        parts = [_compile(p, f"{where}.first[{i}]", ctx) for i, p in enumerate(arg)]
        return lambda record: next((v for p in parts if (v := p(record)) is not None), None)
    if kind == "template":
        keys = re.findall(r"{(\w+)}", arg)

        def template(record: dict[str, Any]) -> str | None:
            values = {k: _text(record.get(k)) for k in keys}
            return None if None in values.values() else arg.format(**values)
        return template
    if kind == "url":
        path = _compile(arg["path"], f"{where}.url.path", ctx)
        return lambda record: urljoin(arg["base"], path(record) or "")
    inner = _compile(arg, f"{where}.{kind}", ctx)
    if kind == "last_segment":
        return lambda record: _text((inner(record) or "").strip("/").split("/")[-1])
    if kind == "slug":
        return lambda record: _slug(inner(record) or "") or None
    if kind == "date":
        formats = ctx["date_formats"]

        def date(record: dict[str, Any]) -> Any:
            text = inner(record)
            if text is None:
                return None
            for fmt in formats:
                try:
                    return datetime.strptime(text, fmt).date().isoformat()
                except ValueError:
                    continue
            return _BadDate(text)
        return date
    if kind == "classify":
        default = _compile(spec["default"], f"{where}.default", ctx)
        rules = ctx["classifier"]

        def classify(record: dict[str, Any]) -> Any:
            title = (inner(record) or "").lower()
            hit = next((r["event_type"] for r in rules
                        if any(word in title for word in r["contains"])), None)
            return hit or default(record)
        return classify
    raise MappingError(f"unknown value kind {kind!r} at {where}", key_path=where,
                       hint="Use column, const, first, template, url, last_segment, slug, "
                            "date or classify")


class _BadDate(str):
    """A date text that no format reads (the record is rejected)."""


@functools.cache
def _required() -> tuple[str, ...]:
    return tuple(load_schema("regulatory-event.json")["required"])


def _problem(event: dict[str, Any]) -> tuple[str, str | None, str] | None:
    """Return (field, value, reason) when the event cannot be written, else None."""
    if not event.get("title"):
        return "title", None, "no title"
    bad = next((f for f, v in event.items() if isinstance(v, _BadDate)), None)
    if bad:
        return (bad, str(event[bad]),
                "not a date in any of the formats " + ", ".join(_spec()["date_formats"]))
    missing = next((f for f in _required() if event.get(f) is None), None)
    if missing:
        return missing, None, f"no {missing} (the envelope requires it)"
    return None


@functools.cache
def _program(source: str) -> tuple[str, dict[str, Value]]:
    spec = _spec()
    names = {name: name for name in spec["sources"]}
    names.update({alias: name for name, s in spec["sources"].items()
                  for alias in s.get("aliases", [])})
    name = names.get(source.lower())
    if name is None:
        raise UnknownSourceError(
            f"unknown regulatory source '{source}'", code="UNKNOWN_SOURCE",
            hint=f"{did_you_mean(source, names, capital=True)}Known regulatory sources: "
                 f"{', '.join(sorted(names))}")
    fields = {field: _compile(value, f"sources.{name}.fields.{field}", spec)
              for field, value in spec["sources"][name]["fields"].items()}
    return name, fields


def normalize_regulatory_events(records: Iterable[dict[str, Any]], *,
                                source: str) -> RegulatoryEvents:
    """Turn one regulator's records into regulatory-event envelopes.

    Args:
        records: dicts as scraped or entered (keys as the regulator's pages name them).
        source: the regulator: ``nersa``, ``ippo``, ``us_manual`` (``us``) or ``zera_seed``
            (``zera``); case-insensitive.

    Returns:
        the events in input order (a list of dicts); records without a title, without
        another field the envelope requires (a date, a URL) or with an unreadable date are
        in ``.rejects`` (index, field, value, reason).
    """
    name, fields = _program(source)
    events: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        event = {field: value(record) for field, value in fields.items()}
        event["source_system"] = name
        event["schema_version"] = REGULATORY_EVENT_SCHEMA_VERSION
        if not event.get("source_record_id") and event.get("title"):
            # a title with no letters or digits: an id stable across runs
            raw = "|".join(str(event.get(k) or "") for k in
                           ("source_system", "title", "published_date"))
            event["source_record_id"] = hashlib.md5(raw.encode("utf-8"),
                                                    usedforsecurity=False).hexdigest()
        problem = _problem(event)
        if problem:
            rejects.append({"index": index, "field": problem[0], "value": problem[1],
                            "reason": problem[2]})
            continue
        events.append({k: event.get(k) for k in FIELDS})
    return RegulatoryEvents(events, rejects)
