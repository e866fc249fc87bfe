"""Names of the working columns a batch carries between stages (never in the output)."""

ROW = "__row"              # 1-based input row (or record) number
ENTRY = "__entry"          # which unpivot entry made the record
INDEX = "__index"          # position of the row in its frame (for reject locations)
ALT = "__alt"              # the later UTC reading of an ambiguous local time
LOCAL = "__local"          # the wall-clock time as written, for resolving ambiguity by order
SCALE = "__scale_"         # prefix: row-by-row scale of a counter field's differences
PREVIOUS = "__previous_row"  # the row whose reading opened a counter interval
