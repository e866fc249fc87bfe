"""Imported first by the fork server of an ``odse run`` started from the command line: the
workers do without pandas, as the command line's own process does (see
``odse.without_pandas``). Its import is its whole effect."""

from odse import without_pandas

without_pandas.block()
