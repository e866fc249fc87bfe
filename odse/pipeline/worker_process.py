"""Imported first by the pipeline's fork server: its worker processes run the engine only,
so pyarrow is told there is no pandas (see :mod:`odse.without_pandas`; a quarter of a second
of imports saved before the first file)."""

from odse import without_pandas

without_pandas.block()
