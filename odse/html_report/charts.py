"""Charts for the data-quality report, drawn with matplotlib as inline SVG (no JavaScript).

matplotlib is the ``odse[report]`` extra; drawing without it raises ``MissingExtraError``
naming the extra.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from odse.errors import require
from odse.html_report.aggregates import AssetDays

CALENDAR_DAYS = 156 * 7
"""The calendar shows at most the last three years; the other charts cover every day."""
WEEKLY_AFTER_DAYS = 370
"""Coverage and error_type are drawn per week for longer spans (a bar per day would not
show, and would only make the file bigger)."""

_STATE_COLOURS = {"normal": "#4c9a2a", "warning": "#e0a100", "critical": "#d1495b",
                  "fault": "#8f2d56", "offline": "#6c757d", "standby": "#9ecae1",
                  "unknown": "#c7c7c7"}


def require_matplotlib() -> Any:
    """Return matplotlib, or raise MissingExtraError naming the ``odse[report]`` extra."""
    return require("matplotlib", "report", "the HTML report")


def _pyplot() -> Any:
    matplotlib = require_matplotlib()
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9,
                         "svg.hashsalt": "odse-report", "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    _pyplot().close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def calendar_heatmap(days: AssetDays) -> str:
    """Return an SVG calendar of daily energy: one column per week, one row per weekday."""
    plt = _pyplot()
    import numpy as np

    shown = list(zip(days.days, days.energy, days.records, strict=True))[-CALENDAR_DAYS:]
    first = shown[0][0] - dt.timedelta(days=shown[0][0].weekday())
    weeks = (shown[-1][0] - first).days // 7 + 1
    grid = np.full((7, weeks), np.nan)
    for day, energy, records in shown:
        offset = (day - first).days
        if records:
            grid[offset % 7, offset // 7] = energy
    fig, ax = plt.subplots(figsize=(min(2.0 + weeks * 0.16, 11.5), 1.9))
    cmap = plt.get_cmap("YlOrRd").with_extremes(bad="#eeeeee")
    image = ax.imshow(grid, aspect="auto", cmap=cmap, interpolation="nearest")
    ax.set_yticks(range(7), ["Mon", "", "Wed", "", "Fri", "", "Sun"])
    ticks = [(w, (first + dt.timedelta(weeks=w))) for w in range(weeks)]
    every = max(1, weeks // 40)  # a label each month, or each few months for long spans
    monthly = [(w, d.strftime("%b %Y")) for w, d in ticks
               if w == 0 or d.month != (d - dt.timedelta(weeks=1)).month]
    monthly = monthly[::every]
    ax.set_xticks([w for w, _ in monthly], [label for _, label in monthly])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.colorbar(image, ax=ax, label="kWh per day", fraction=0.03, pad=0.01)
    title = "Daily energy (generation); grey: no records"
    if len(days.days) > CALENDAR_DAYS:
        title += f" (the last {CALENDAR_DAYS // 7} weeks of {len(days.days):,} days)"
    ax.set_title(title, loc="left")
    return _svg(fig)


def coverage_chart(days: AssetDays) -> str:
    """Return an SVG chart of the share of each day's intervals present (incomplete in red)."""
    plt = _pyplot()
    x, (coverage,), width = _bins(days, [[c * 100 for c in days.coverage]], mean=True)
    fig, ax = plt.subplots(figsize=(11.5, 1.7))
    _stairs(ax, coverage, _edges(x, width), color="#4c9a2a", alpha=0.85)
    short = [(d, c) for d, c in zip(x, coverage, strict=True) if c < 99.5]
    if short:
        ax.scatter([d for d, _ in short], [c for _, c in short], s=9, color="#d1495b",
                   zorder=3, label=f"{len(short)} incomplete {'week' if width > 1 else 'day'}"
                                   f"{'s' if len(short) > 1 else ''}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of intervals")
    cadence = (f"{days.cadence_minutes:g}-minute cadence, {days.expected} a day"
               if days.cadence_minutes else "cadence unknown")
    ax.set_title(f"Data coverage per {'week' if width > 1 else 'day'} ({cadence})", loc="left")
    _date_axis(ax, days)
    return _svg(fig)


def state_timeline(days: AssetDays) -> str:
    """Return an SVG stacked area chart of records per error_type per day."""
    plt = _pyplot()
    names = list(days.states)
    x, columns, width = _bins(days, [days.states[n] for n in names], mean=False)
    fig, ax = plt.subplots(figsize=(11.5, 1.9))
    edges = _edges(x, width)
    bottom: list[float] = [0.0] * len(x)
    for state, counts in zip(names, columns, strict=True):
        top = [b + c for b, c in zip(bottom, counts, strict=True)]
        _stairs(ax, top, edges, baseline=bottom, label=state,
                color=_STATE_COLOURS.get(state, "#7f7f7f"))
        bottom = top
    ax.set_ylabel("records")
    ax.set_title(f"error_type per {'week' if width > 1 else 'day'}", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    _date_axis(ax, days)
    return _svg(fig)


def _stairs(ax: Any, values: Sequence[float], edges: Sequence[float], *,
            baseline: float | Sequence[float] = 0.0, color: str, **kwargs: Any) -> Any:
    """Draw ``ax.stairs(values, edges, baseline=baseline, fill=True, color=color)``, with the
    data limits taken from the outline's vertices at once.

    ``Axes.add_patch`` walks a patch's outline segment by segment in Python to find its
    extent: seconds for the thousands of steps of a long series. A step outline is straight
    lines only, so its extent is that of its vertices (the closing vertex aside), and the
    chart comes out the same.
    """
    import numpy as np
    from matplotlib.patches import StepPatch
    from matplotlib.path import Path

    kwargs.setdefault("linewidth", 0)
    kwargs.setdefault("facecolor", color)
    patch = StepPatch(values, edges, baseline=baseline, fill=True, **kwargs)  # type: ignore[arg-type]
    ax.add_artist(patch)
    path = patch.get_path()
    vertices: Any = np.asarray(path.vertices)
    if path.codes is not None:
        vertices = vertices[(path.codes != Path.CLOSEPOLY) & (path.codes != Path.STOP)]
    if len(vertices):
        ax.update_datalim(vertices)
    lowest = np.min(baseline)
    patch.sticky_edges.y.append(lowest)
    ax.update_datalim([(edges[0], lowest)])
    ax.autoscale_view()
    return patch


def _bins(days: AssetDays, columns: Sequence[Sequence[float]],
          mean: bool) -> tuple[list[float], list[list[float]], int]:
    """Return (bin centres, the columns per bin, bin width in days): days, or weeks when long."""
    x = _day_numbers(days)
    width = 7 if len(x) > WEEKLY_AFTER_DAYS else 1
    if width == 1:
        return x, [list(column) for column in columns], 1
    centres = [x[i] + 3 for i in range(0, len(x), 7)]
    out = []
    for column in columns:
        groups = [column[i:i + 7] for i in range(0, len(column), 7)]
        out.append([sum(g) / len(g) if mean else sum(g) for g in groups])
    return centres, out, width


def _edges(x: list[float], width: int = 1) -> list[float]:
    """Return the edges of bins of ``width`` days centred on x."""
    return [v - width / 2 for v in x] + [x[-1] + width / 2]


def _day_numbers(days: AssetDays) -> list[float]:
    import matplotlib.dates as mdates

    return list(mdates.date2num(days.days))


def _date_axis(ax: Any, days: AssetDays) -> None:
    """Label the x axis with days or months (never hours), about ten labels at most."""
    import matplotlib.dates as mdates

    span = len(days.days)
    if span <= 60:
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, span // 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    else:
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, span // 300)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    first, last = mdates.date2num(days.days[0]), mdates.date2num(days.days[-1])
    ax.set_xlim(first - 0.6, last + 0.6)
