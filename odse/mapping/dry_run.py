"""Run every expression of a compiled spec over a small synthetic batch, at check time.

Compiling a spec checks its shape; some mistakes only show when an expression meets data
(an operator that cannot take what another gives it). ``dry_run`` evaluates every field of
every variant and unpivot entry, the ``where:`` condition and the counter scales over a
few synthetic rows, once with text cells (CSV, workbooks) and once with numbers (JSON), so
that a spec that would crash at run time fails ``odse mapping check`` instead. Bad values
are fine here (they become rejects); only an exception is a problem.

``warnings`` lists what is legal but likely wrong: a variant whose time formats cannot carry
an offset (a strptime format without ``%z``, Excel serials) and that declares no zone: its
times are read as UTC unless the caller passes ``timezone=``. (Times read by ``iso8601`` or
``auto`` may carry offsets; when they do not, the transform's report says so.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from odse.engine.compile_ctx import RunState
from odse.engine.frame import Frame
from odse.errors import MappingError, OdseError

if TYPE_CHECKING:
    from odse.mapping import Mapping

_TEXT = ["1.5", None, "abc", "2024-06-01 12:00:00", "-2", "Normal"]
_NUMBERS = [1.5, None, 0.0, 1717243200.0, -2.0, 512.0]


class SyntheticFrame(Frame):
    """Every column the spec asks for exists, holding a few assorted values."""

    def __init__(self, values: pa.Array, params: dict[str, Any]) -> None:
        self.values = values
        self.n = len(values)
        self.rows = pa.array(range(1, self.n + 1), pa.int64())
        self.params = params

    def column(self, ref: str) -> pa.Array | None:
        return self.values

    def has(self, ref: str) -> bool:
        return True

    def locations(self, indices: Sequence[int]) -> list[str]:
        return [f"synthetic row {i + 1}" for i in indices]


def dry_run(mapping: Mapping) -> list[MappingError]:
    """Return a MappingError for each expression that raises on a synthetic batch."""
    params = {name: p.default for name, p in mapping.params.items()}
    params.update(timezone="UTC", asset_id="A1")
    problems: list[MappingError] = []
    inline = "format" in mapping.data
    for index, variant in enumerate(mapping.variants):
        # a top-level shape is variant 0; variants: follow it
        base: tuple[Any, ...] = () if inline and index == 0 else \
            ("variants", index - 1 if inline else index)
        unpivot = variant.spec.get("unpivot") or []
        targets: list[tuple[tuple[Any, ...], Any]] = []
        if variant.where is not None:
            targets.append(((*base, "where"), variant.where))
        for entry in variant.entries:
            own = unpivot[entry.index] if unpivot else {}
            for name, program in entry.fields.items():
                path = (*base, "unpivot", entry.index, name) if name in own \
                    else (*base, "fields", name)
                targets.append((path, program.evaluate))
                if program.factor is not None:
                    targets.append((path, program.factor))
        for values in (pa.array(_TEXT, pa.string()), pa.array(_NUMBERS, pa.float64())):
            frame, state = SyntheticFrame(values, params), RunState()
            for path, run in targets:
                try:
                    run(frame, state)
                except OdseError:
                    continue        # a data problem the run reports as such
                except Exception as exc:  # the point: any crash is a spec problem
                    problems.append(_crash(mapping, path, exc))
                    return problems
    return problems


def _crash(mapping: Mapping, path: tuple[Any, ...], exc: Exception) -> MappingError:
    from odse.mapping.source_text import render_path

    text = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__
    return MappingError(
        f"this expression fails when it meets data ({detail})", code="MAPPING_CRASHES",
        file=mapping.file, line=mapping.text.line_of(path), key_path=render_path(path),
        hint="Simplify the expression, or report it as an odse bug with the spec")


def warnings(mapping: Mapping) -> list[str]:
    """Return warnings about a spec that loads: naive times read with no declared zone."""
    out = []
    if "timezone" in mapping.params and mapping.params["timezone"].default:
        return out
    for variant in mapping.variants:
        if variant.zone:
            continue
        spec = variant.spec["fields"].get("timestamp", {})
        if "timezone" in spec:
            continue
        formats = spec.get("format", "auto")
        formats = [formats] if isinstance(formats, str) else list(formats)
        # iso8601 and auto may meet offsets in the data (the report says when they did
        # not); a strptime format without %z and Excel serials never carry one
        naive = [f for f in formats if f == "excel" or ("%" in f and "%z" not in f)]
        if not naive:
            continue
        out.append(f"variant {variant.name} reads times without an offset ({naive[0]}) and "
                   "declares no zone: they are read as UTC unless the caller passes "
                   "timezone= (add timezone: to the variant when its exports use one zone)")
    return out
