"""Read one sheet of a spreadsheet workbook (.xlsx, .xlsm, .xls, .ods) into Arrow.

The sheet is read by fastexcel (the Rust calamine reader, Arrow output), which is the
optional extra ``odse[excel]``. Every cell comes as text, exactly as a CSV field would: a
date cell as ``2024-05-01 00:15:00``, a number as its shortest decimal form (``28.2``), so
the same fields, units and code tables apply to a workbook as to a CSV export. Numbers
typed as text are text either way; Excel date serials in number cells are read by the
time format ``excel``. Below a fixed header row, a sheet whose number columns hold only
numbers keeps them as float64 (see ``_typed_sheet``): the engine reads them as JSON numbers.

Which sheet, and which row holds the header, are the variant's ``workbook:`` settings:
a fixed header row, or the first row (within the first ``within`` rows) that holds the
columns the variant needs. Rows above the header (titles, report settings) are skipped;
so are blank rows and ``skip_footer`` rows at the end, which the caller counts as skipped.
Row numbers are sheet rows as a spreadsheet shows them, counted from the top of the sheet
(empty rows above the first that holds anything count too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse import patterns
from odse.errors import InputError, require
from odse.readers import sheet_prefetch
from odse.readers.inputs import InputData
from odse.records import EXACT_INTEGER_LIMIT

EXTRA = "excel"
DEFAULT_WITHIN = 30


@dataclass(frozen=True)
class WorkbookSettings:
    """A variant's ``workbook:`` settings."""

    sheet: Any = 0                       # name, 0-based index, or {match: regex}
    header_row: int | None = None        # 1-based sheet row of the header; None: find it
    find: tuple[tuple[str, ...], ...] = ()   # column groups the header row must hold
    within: int = DEFAULT_WITHIN         # rows searched for the header
    skip_footer: int = 0                 # rows dropped at the end of the sheet


@dataclass
class Sheet:
    """The data rows of one sheet, every column as text."""

    name: str
    table: pa.Table
    header_row: int          # sheet row of the header (1-based)
    rows: pa.Array           # data row of each table row (sheet row - header_row)
    blank: int               # blank rows dropped
    footer: int              # footer rows dropped
    names: list[str]


def require_reader() -> Any:
    """Return the fastexcel module, or raise an error naming the extra to install."""
    return require("fastexcel", EXTRA, "reading spreadsheet workbooks (.xlsx, .xls, .ods)")


def open_workbook(data: InputData) -> Any:
    """Open ``data`` as a workbook (the file is parsed lazily, sheet by sheet)."""
    fastexcel = require_reader()
    try:
        if data.path is not None and not data.gzip:
            return fastexcel.read_excel(str(data.path))
        return fastexcel.read_excel(data.read_all())
    except Exception as exc:  # fastexcel raises its own error classes
        raise InputError(f"cannot read the workbook: {_short(exc)}", code="WORKBOOK_UNREADABLE",
                         file=data.name,
                         hint="Check that the file is a complete .xlsx/.xls/.ods workbook "
                              "(open it in a spreadsheet program and save it again)") from None


def choose_sheet(names: Sequence[str], sheet: Any, file: str) -> str:
    """Return the sheet name that ``sheet`` (name, index or {match: regex}) picks."""
    known = ", ".join(repr(n) for n in names)
    if isinstance(sheet, bool):
        sheet = int(sheet)
    if isinstance(sheet, int):
        if -len(names) <= sheet < len(names):
            return names[sheet]
        raise InputError(f"the workbook has {len(names)} sheet(s), no sheet at index {sheet}",
                         code="SHEET_NOT_FOUND", file=file, hint=f"Sheets: {known}")
    if isinstance(sheet, dict):
        if "index" in sheet:
            return choose_sheet(names, int(sheet["index"]), file)
        if "name" in sheet:
            return choose_sheet(names, str(sheet["name"]), file)
        for name, found in zip(names, patterns.search(names, sheet["match"]), strict=True):
            if found:
                return name
        raise InputError(f"no sheet name matches {sheet['match']!r}", code="SHEET_NOT_FOUND",
                         file=file, hint=f"Sheets: {known}")
    if sheet in names:
        return sheet
    folded = [n for n in names if n.strip().lower() == str(sheet).strip().lower()]
    if folded:
        return folded[0]
    from odse.suggest import did_you_mean
    raise InputError(f"the workbook has no sheet {sheet!r}", code="SHEET_NOT_FOUND", file=file,
                     hint=f"{did_you_mean(str(sheet), list(names), capital=True)}Sheets: {known}")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _load(reader: Any, sheet: str, file: str, **options: Any) -> pa.Table:
    try:
        loaded = reader.load_sheet(sheet, dtypes="string", **options)
        batch = loaded.to_arrow()
    except Exception as exc:  # fastexcel raises its own error classes
        raise InputError(f"cannot read sheet {sheet!r}: {_short(exc)}",
                         code="WORKBOOK_UNREADABLE", file=file) from None
    return pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch


def find_header(top: list[dict[str, Any]], groups: Sequence[Sequence[str]], sheet: str,
                file: str) -> int:
    """Return the 1-based row, among ``top``, whose cells hold every column group."""
    wanted = [{g.strip().lower() for g in group} for group in groups if group]
    for i, row in enumerate(top):   # a few dozen rows: plain Python is fine
        cells = {str(v).strip().lower() for v in row.values() if v is not None}
        if wanted and all(cells & group for group in wanted):
            return i + 1
    need = "; ".join(dict.fromkeys(" or ".join(repr(n) for n in g) for g in groups if g))
    raise InputError(
        f"no header row in the first {len(top)} rows of sheet {sheet!r} holds the columns "
        f"{need}", code="INPUT_SHAPE_UNKNOWN", file=file,
        hint="Check the sheet, or give workbook.header.row (the row number of the header)")


def read_sheet(data: InputData, settings: WorkbookSettings, groups: Sequence[Sequence[str]],
               reader: Any = None) -> Sheet:
    """Read the data rows of the chosen sheet (one pass over it): with a fixed header row,
    number cells as numbers when every cell of their column is one; otherwise, and
    whenever that reading finds anything else, every column as text."""
    reader = reader or open_workbook(data)
    name = choose_sheet(list(reader.sheet_names), settings.sheet, data.name)
    if settings.header_row is not None:
        ahead = sheet_prefetch.take(data.path, settings.sheet, name, settings.header_row)
        typed = _typed_sheet(ahead or reader.load_sheet, name, settings.header_row, settings,
                             settings.find or groups)
        if typed is not None:
            return typed
    # skip_rows=0: rows are counted from the top of the sheet, empty ones too
    grid = _load(reader, name, data.name, header_row=None, skip_rows=0)
    header = settings.header_row
    if header is None:
        top = grid.slice(0, settings.within).to_pylist()
        header = find_header(top, settings.find or groups, name, data.name)
    if header > grid.num_rows:
        raise InputError(f"sheet {name!r} has {grid.num_rows} rows, no header row {header}",
                         code="INPUT_SHAPE_UNKNOWN", file=data.name,
                         hint="Check workbook.header.row")
    names = _header_names(grid.slice(header - 1, 1).to_pylist()[0].values())
    return _data_rows(name, grid.slice(header).rename_columns(names), header, settings)


def _data_rows(name: str, table: pa.Table, header: int, settings: WorkbookSettings) -> Sheet:
    """The rows below the header: ``skip_footer`` rows and blank rows left out, counted."""
    n = table.num_rows
    footer = min(settings.skip_footer, n)
    if footer:
        table = table.slice(0, n - footer)
    rows = _counting(table.num_rows)
    blank_mask = _blank_rows(table)
    blank = 0
    if blank_mask is not None:
        keep = pc.invert(blank_mask)
        blank = table.num_rows - (pc.sum(keep.cast(pa.int64())).as_py() or 0)
        if blank:
            table, rows = table.filter(keep), pc.filter(rows, keep)
    return Sheet(name, table, header, rows, blank, footer, table.column_names)


def _typed_sheet(load: Any, name: str, header: int, settings: WorkbookSettings,
                 groups: Sequence[Sequence[str]]) -> Sheet | None:
    """The sheet below a fixed header row with number columns as float64, or None when text
    is the only faithful reading.

    Formatting every number cell as text and parsing it back costs more than reading the
    sheet (a third of the time on a large one), so number columns stay numbers: the engine
    reads them as it reads JSON numbers. Columns of other cells become the text the text
    reading gives (times as ``2024-05-01 00:15:00``, ``.250`` when they have milliseconds;
    booleans as ``true``/``false``). None, and the text reading instead, when a cell does not
    have its column's type (a ``N/A`` among numbers: its text must reach the rejects; a
    boolean among numbers), a number column holds an integer past 2^53 (its digits lost),
    a column has another type, a header is repeated (fastexcel numbers repeats from ``_1``,
    the text reading from ``_2``), or the header lacks the columns the variant needs.
    """
    try:
        # ``load``: the reader's load_sheet, or a sheet sheet_prefetch has read already
        loaded = load(name, header_row=header - 1, **TYPED) if callable(load) else load
        batch, errors = loaded.to_arrow_with_errors()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # fastexcel's errors, a Rust panic: the text reading words it
        return None
    if errors is not None and errors.errors:
        return None
    given = batch.schema.names
    if any(m and m.group(1) in given for m in map(_RENAMED.match, given)):
        return None   # a repeated header: fastexcel numbers it from _1, the text reading _2
    names = [_UNNAMED.sub(lambda m: f"column_{int(m.group(1)) + 1}", n).strip() for n in given]
    cells = {n.lower() for n in names}
    if len(set(names)) != len(names) or not all(
            cells & {g.strip().lower() for g in group} for group in groups if group):
        return None
    columns = []
    for column in batch.columns:
        typed = _as_read(column)
        if typed is None:
            return None
        columns.append(typed)
    return _data_rows(name, pa.Table.from_arrays(columns, names=names), header, settings)


_UNNAMED = re.compile(r"^__UNNAMED__(\d+)$")
"""fastexcel's name for a column whose header cell is empty (the text reading: column_N)."""
_RENAMED = re.compile(r"^(.*)_\d+$")
TYPED = sheet_prefetch.TYPED


def _as_read(column: pa.Array) -> pa.Array | None:
    """A typed column as the engine takes it: numbers as float64, the rest as text."""
    typ = column.type
    if pa.types.is_floating(typ):
        # an integer past 2^53 has lost digits in the float: the text reading rejects it
        big = pc.max(pc.abs(column)).as_py()
        return column if big is None or big < EXACT_INTEGER_LIMIT else None
    if pa.types.is_string(typ):
        return column
    if pa.types.is_null(typ):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_boolean(typ):
        return pc.if_else(column, "true", "false")
    if pa.types.is_timestamp(typ) and typ.tz is None:
        # whole seconds as text (a cast: strftime takes 30 times as long), then any fraction
        seconds = pc.cast(pc.floor_temporal(column, unit="second"), pa.timestamp("s"))
        text = pc.cast(seconds, pa.string())
        millis = pc.millisecond(column)
        fraction = pc.fill_null(pc.not_equal(millis, 0), False)
        if not pc.any(fraction).as_py():
            return text
        shown = pc.utf8_lpad(pc.cast(millis, pa.string()), 3, "0")
        return pc.if_else(fraction, pc.binary_join_element_wise(text, shown, "."), text)
    return None


def _header_names(cells: Any) -> list[str]:
    """Header cells as column names: trimmed; empty ones named by position; repeats get _2."""
    names: list[str] = []
    for i, cell in enumerate(cells):
        name = str(cell).strip() if cell is not None else ""
        name = name or f"column_{i + 1}"
        base, k = name, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


def _counting(n: int) -> pa.Array:
    """Return 1, 2, ..., n as int64."""
    if not n:
        return pa.array([], pa.int64())
    return pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n))


def _blank_rows(table: pa.Table) -> pa.Array | None:
    """Rows whose every cell is empty or spaces (None when the table has no columns)."""
    blank = None
    for column in table.columns:
        values = column.combine_chunks()
        if not pa.types.is_string(values.type):
            empty = pc.is_null(values)
            blank = empty if blank is None else pc.and_(blank, empty)
            continue
        empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(values), ""), True)
        blank = empty if blank is None else pc.and_(blank, empty)
    return blank
