"""JSON numbers that Arrow's reader could only round: read again as written.

Arrow's JSON reader types a field as float64 when one of its numbers does not fit an int64
(or has a fraction). A float64 holds every integer up to 2^53 exactly; past that, and past
its range (a 5,000-digit integer reads as infinity), the number it holds is not the one
written, and nothing would show it. So when a column the mapping reads holds such a float,
the document (or the JSON Lines from that block on) is read again by Python's parser with
every number kept as its text, which the engine converts as it does CSV cells: an integer
past 2^53 is a ``NOT_EXACT`` reject and a number past float64's range a ``NOT_FINITE`` one,
each with the value as written. Only columns the mapping names are checked, in Arrow; a
document without such numbers costs one comparison per mapped float column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.engine.convert import EXACT
from odse.engine.frame import Frame, JsonFrame
from odse.engine.variant import Variant
from odse.readers import json_input
from odse.readers.inputs import InputData


def rounded(frame: Frame, columns: Iterable[str]) -> bool:
    """True when a float column among ``columns`` holds a value that may not be the number
    written: 2^53 or more in size, or not finite."""
    for name in columns:
        values = frame.column(name)
        if values is None or not pa.types.is_floating(values.type):
            continue
        far = pc.or_(pc.invert(pc.is_finite(values)),
                     pc.greater_equal(pc.abs(values), float(EXACT)))
        if pc.any(far).as_py():
            return True
    return False


def lines(variant: Variant, data: InputData, schema: pa.Schema | None,
          params: dict[str, Any]) -> Iterator[tuple[pa.StructArray, JsonFrame]]:
    """Yield JSON Lines input in blocks with their frames (one block when the variant sorts
    by time); from a block holding a rounded number on, the lines are read as text."""
    blocks: Iterator[pa.StructArray] = json_input.iter_lines(data, schema)
    if variant.order == "time":
        blocks = _whole(blocks)   # sorting by time needs every line
    first = 1
    for block in blocks:
        frame = variant.json_frame(block, params, first)
        if rounded(frame, variant.columns):
            close = getattr(blocks, "close", None)
            if close is not None:
                close()
            rest = json_input.lines_as_text(data, skip=first - 1)
            if variant.order == "time":
                rest = _whole(rest)
            for again in rest:
                yield again, variant.json_frame(again, params, first)
                first += len(again)
            return
        yield block, frame
        first += len(block)


def _whole(blocks: Iterator[pa.StructArray]) -> Iterator[pa.StructArray]:
    whole = list(blocks)
    if whole:
        yield pa.concat_arrays(whole)
