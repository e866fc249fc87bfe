"""Compare plotting libraries for the HTML report: one calendar heatmap, self-contained file.

Run from the repository root (each library that is installed is measured; the others are
reported missing):

    .venv/bin/python benchmarks/report_charts.py

For a year of daily energy (53 weeks x 7 days), each library writes a self-contained HTML
file that needs no network: matplotlib an inline SVG (odse's choice), plotly with plotly.js
inlined, altair with the Vega scripts inlined (``inline=True``, which needs
``vl-convert-python``). Printed: bytes of the file, seconds to build it (median of
``--repeat``, after one warm-up that also pays the imports), whether the file holds JavaScript.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import statistics
import time
from collections.abc import Callable

DAYS = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(365)]
ENERGY = [30 + 25 * math.sin(math.pi * i / 365) + (i * 7919 % 13) for i in range(365)]


def grid() -> tuple[list[list[float | None]], int]:
    first = DAYS[0] - dt.timedelta(days=DAYS[0].weekday())
    weeks = (DAYS[-1] - first).days // 7 + 1
    cells: list[list[float | None]] = [[None] * weeks for _ in range(7)]
    for day, energy in zip(DAYS, ENERGY, strict=True):
        offset = (day - first).days
        cells[offset % 7][offset // 7] = energy
    return cells, weeks


def with_matplotlib() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cells, _ = grid()
    data = np.array([[np.nan if v is None else v for v in row] for row in cells])
    fig, ax = plt.subplots(figsize=(11, 2))
    ax.imshow(data, aspect="auto", cmap="YlOrRd", interpolation="nearest")
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    return f"<!DOCTYPE html><html><body>{buffer.getvalue()}</body></html>"


def with_plotly() -> str:
    import plotly.graph_objects as go

    cells, _ = grid()
    fig = go.Figure(go.Heatmap(z=cells, colorscale="YlOrRd"))
    return fig.to_html(include_plotlyjs=True, full_html=True)


def with_altair() -> str:
    import altair as alt

    rows = [{"week": (d - DAYS[0]).days // 7, "weekday": d.weekday(), "kWh": e}
            for d, e in zip(DAYS, ENERGY, strict=True)]
    chart = alt.Chart(alt.Data(values=rows)).mark_rect().encode(
        x="week:O", y="weekday:O", color="kWh:Q")
    buffer = io.StringIO()
    chart.save(buffer, format="html", inline=True)
    return buffer.getvalue()


def measure(build: Callable[[], str], repeat: int) -> tuple[float, str]:
    page = build()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        page = build()
        times.append(time.perf_counter() - start)
    return statistics.median(times), page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, build in (("matplotlib (SVG)", with_matplotlib), ("plotly", with_plotly),
                        ("altair (inline)", with_altair)):
        try:
            seconds, page = measure(build, args.repeat)
        except ImportError as exc:
            print(f"{name:<18} not installed ({exc.name})")
            continue
        except Exception as exc:  # a library that cannot write offline HTML
            print(f"{name:<18} failed: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        script = "<script" in page
        print(f"{name:<18} {len(page.encode()):>10,} bytes  {seconds:6.3f} s  "
              f"JavaScript: {'yes' if script else 'no'}")


if __name__ == "__main__":
    main()
