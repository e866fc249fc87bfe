"""The data-quality report: one self-contained HTML file per set of records.

``build_report`` takes the records as an Arrow table (a lake, a records file, or a transform's
output), optionally the transform's rejects and a run report, validates them at the semantic
level (schema errors, plausibility and fleet checks), and returns the HTML: per asset a
calendar of daily energy, coverage per day, error_type per day, then the rejects by code and
column, the findings by code, and the provenance. Charts are inline SVG drawn by matplotlib
(the ``odse[report]`` extra); the page has no script and loads nothing, so it opens offline in
any browser.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from odse import __version__
from odse.html_report.aggregates import (
    findings_by_code,
    per_asset_days,
    rejects_by_code_and_column,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""The page's content security policy: nothing may load from anywhere (a browser reports any
attempt as a console error, which the browser test looks for)."""
MAX_ASSETS = 50
"""Assets drawn with charts; the others are listed in the table of assets."""

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#1f3b57;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
main{padding:8px 28px 40px;max-width:1240px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:16px 0;
padding:12px 18px}
h2{font-size:17px;margin:6px 0 10px}h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.tiles{display:flex;gap:12px;flex-wrap:wrap}
.tile{background:#f3f5f7;border-radius:6px;padding:8px 14px;min-width:120px}
.tile b{display:block;font-size:20px}
.warn{color:#9a6700}.err{color:#b42318}.ok{color:#2e7d32}
svg{max-width:100%;height:auto}code{font-size:12px}
"""


@dataclass
class ReportInput:
    """What a report is made of.

    Parameters:
        table: The records in their Arrow form.
        title: Heading of the page.
        inputs: Where the records came from (paths, a source name).
        rejects: The transform's rejects (``REJECT_SCHEMA``), when the records come from one.
        transform: The transform's counts (``Report.to_dict()``), when known.
        run_report: A run report (JSON) given by the user, shown under provenance.
        options: Semantic validation options (capacity_kw, latitude, longitude, ...).
    """

    table: pa.Table
    title: str = "odse data-quality report"
    inputs: list[str] = field(default_factory=list)
    rejects: pa.Table | None = None
    transform: dict[str, Any] | None = None
    run_report: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)


def build_report(data: ReportInput) -> tuple[str, dict[str, Any]]:
    """Return the report's HTML and a summary (counts, timings) of what it found.

    Raises:
        OdseError: matplotlib (the ``odse[report]`` extra) is not installed.
    """
    from odse.html_report import charts
    from odse.validation import validate_batch

    timings: dict[str, float] = {}
    start = time.perf_counter()
    if data.table.num_rows and data.table.column(0).num_chunks > 1:
        # a lake arrives as one chunk per file (thousands): one copy now makes every kernel
        # and group-by below run over long arrays instead of tiny ones
        data.table = data.table.combine_chunks()
    timings["combine"] = time.perf_counter() - start
    start = time.perf_counter()
    result = validate_batch(data.table, level="semantic", **data.options)
    timings["validate"] = time.perf_counter() - start
    start = time.perf_counter()
    assets = per_asset_days(data.table)
    findings = findings_by_code(result)
    rejects = rejects_by_code_and_column(data.rejects)
    timings["aggregate"] = time.perf_counter() - start
    start = time.perf_counter()
    asset_sections = [
        _asset_section(a, charts) for a in assets[:MAX_ASSETS]]
    timings["charts"] = time.perf_counter() - start

    n_rejects = data.rejects.num_rows if data.rejects is not None else 0
    tiles = [("records", f"{data.table.num_rows:,}"), ("assets", f"{len(assets):,}"),
             ("valid", f"{result.valid:,}"), ("errors", f"{len(result.errors):,}"),
             ("warnings", f"{len(result.warnings):,}"), ("rejected rows", f"{n_rejects:,}")]
    if assets:
        first = min(a.days[0] for a in assets)
        last = max(a.days[-1] for a in assets)
        tiles.append(("days", f"{first} to {last}"))
    body = [
        f"<header><h1>{_e(data.title)}</h1><p>{_e(result.summary)}</p></header><main>",
        "<section><h2>Overview</h2><div class='tiles'>"
        + "".join(f"<div class='tile'>{_e(k)}<b>{_e(v)}</b></div>" for k, v in tiles)
        + "</div>" + _asset_table(assets) + "</section>",
        *asset_sections,
        _rejects_section(rejects, n_rejects),
        _findings_section(findings, data.options),
        _provenance_section(data, timings),
        "</main>",
    ]
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
            f"<title>{_e(data.title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
    summary = {"records": data.table.num_rows, "assets": len(assets), "valid": result.valid,
               "errors": len(result.errors), "warnings": len(result.warnings),
               "rejects": n_rejects, "summary": result.summary,
               "seconds": {k: round(v, 3) for k, v in timings.items()}}
    return page, summary


def _asset_table(assets: list[Any]) -> str:
    if not assets:
        return "<p>No records with a timestamp.</p>"
    rows = []
    for a in assets:
        coverage = a.coverage
        mean = sum(coverage) / len(coverage) * 100 if coverage else 0.0
        cadence = f"{a.cadence_minutes:g} min" if a.cadence_minutes else "?"
        rows.append(f"<tr><td>{_e(a.asset)}</td><td>{a.days[0]}</td><td>{a.days[-1]}</td>"
                    f"<td class='n'>{sum(a.energy):,.1f}</td><td>{cadence}</td>"
                    f"<td class='n'>{mean:.1f} %</td>"
                    f"<td class='n'>{sum(1 for c in coverage if c < 0.995)}</td></tr>")
    more = (f"<p>Charts are drawn for the first {MAX_ASSETS} assets.</p>"
            if len(assets) > MAX_ASSETS else "")
    return ("<h3>Assets</h3><table><tr><th>asset</th><th>first day</th><th>last day</th>"
            "<th>generation kWh</th><th>cadence</th><th>mean coverage</th>"
            "<th>days not complete</th></tr>" + "".join(rows) + "</table>" + more)


def _asset_section(days: Any, charts: Any) -> str:
    return (f"<section><h2>Asset {_e(days.asset)}</h2>" + charts.calendar_heatmap(days)
            + charts.coverage_chart(days) + charts.state_timeline(days) + "</section>")


def _rejects_section(rejects: list[dict[str, Any]], total: int) -> str:
    if not rejects:
        text = ("No rejected rows." if total == 0 else "")
        return f"<section><h2>Rejected rows</h2><p>{text or 'No rejects were given.'}</p>" \
               "</section>"
    rows = []
    for group in rejects:
        examples = "<br>".join(
            _e(f"row {x['row']}" + (f" (line {x['line']})" if x.get("line") else "")
               + f": {x['value']!r}: {x['reason']}") for x in group["examples"])
        rows.append(f"<tr><td><code>{_e(group['code'])}</code></td><td>{_e(group['field'])}"
                    f"</td><td>{_e(group['column'])}</td><td class='n'>{group['count']:,}"
                    f"</td><td>{examples}</td></tr>")
    return (f"<section><h2>Rejected rows ({total:,})</h2><table><tr><th>code</th>"
            "<th>field</th><th>column</th><th>rows</th><th>examples</th></tr>"
            + "".join(rows) + "</table></section>")


def _findings_section(findings: list[dict[str, Any]], options: dict[str, Any]) -> str:
    given = ", ".join(f"{k}={v}" for k, v in options.items() if v is not None) or "none"
    if not findings:
        return ("<section><h2>Validation and fleet checks</h2><p class='ok'>No errors and no "
                f"warnings (semantic level; site options: {_e(given)}).</p></section>")
    rows = []
    for group in findings:
        css = "err" if group["kind"] == "error" else "warn"
        examples = "<br>".join(_e(f"record {i}: {m}") for i, m in group["examples"])
        rows.append(f"<tr><td class='{css}'>{group['kind']}</td><td><code>"
                    f"{_e(group['code'])}</code></td><td class='n'>{group['count']:,}</td>"
                    f"<td>{examples}</td></tr>")
    return ("<section><h2>Validation and fleet checks</h2>"
            f"<p>Semantic level; site options: {_e(given)}. See docs/validation.md for each "
            "code's formula.</p><table><tr><th>kind</th><th>code</th><th>count</th>"
            "<th>first findings</th></tr>" + "".join(rows) + "</table></section>")


def _provenance_section(data: ReportInput, timings: dict[str, float]) -> str:
    items = [("generated", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")),
             ("by", f"odse {__version__}"),
             ("inputs", ", ".join(data.inputs) or "(given in Python)"),
             ("columns", ", ".join(data.table.column_names))]
    for name in ("source", "variant", "input", "rows_read", "records", "rows_rejected"):
        if data.transform and data.transform.get(name) is not None:
            items.append((f"transform {name}", str(data.transform[name])))
    items.append(("computed in", ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in items)
    extra = ""
    if data.run_report is not None:
        text = json.dumps(data.run_report, indent=2, ensure_ascii=False, default=str)
        extra = f"<h3>Run report</h3><pre>{_e(text[:20_000])}</pre>"
    return f"<section><h2>Provenance</h2><table>{rows}</table>{extra}</section>"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
