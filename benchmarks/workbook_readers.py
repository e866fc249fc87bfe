"""Which reader for workbooks: fastexcel, python-calamine and openpyxl on one sheet.

Each reads the benchmark workbook of ``workbook_lake.py`` (written there if missing) to
columns: fastexcel straight to an Arrow table; python-calamine to Python lists (then
``pyarrow.Table.from_pylist`` would still be needed); openpyxl's read-only mode to Python
tuples. In-process, interleaved, medians. Usage::

    python benchmarks/workbook_readers.py --rows 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from workbook_lake import write_workbook


def fastexcel_arrow(path: Path) -> int:
    import fastexcel
    return fastexcel.read_excel(str(path)).load_sheet("Data", dtypes="string").to_arrow().num_rows


def calamine_lists(path: Path) -> int:
    from python_calamine import CalamineWorkbook
    return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Data").to_python())


def openpyxl_rows(path: Path) -> int:
    import openpyxl
    book = openpyxl.load_workbook(path, read_only=True)
    return sum(1 for _ in book["Data"].iter_rows(values_only=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "odse-bench")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    book = args.out / f"workbook_{args.rows}_1min.xlsx"
    if not book.exists():
        write_workbook(book, args.rows, 1)
    readers = {"fastexcel": fastexcel_arrow, "python-calamine": calamine_lists,
               "openpyxl": openpyxl_rows}
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(args.repeat):
        for name, read in readers.items():
            start = time.perf_counter()
            read(book)
            times[name].append(time.perf_counter() - start)
    print(f"{args.rows} rows x 10 columns; load {os.getloadavg()[0]:.2f}")
    base = statistics.median(times["fastexcel"])
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:16s} {med:6.2f} s  ({med / base:.1f}x fastexcel)")


if __name__ == "__main__":
    main()
