"""Guide: Streaming Large Files, as written (paths replaced)."""

import json
from pathlib import Path

from odse import transform_stream, validate

HERE = Path(__file__).resolve().parent
out = HERE / "out" / "output" / "large_site.jsonl"
out.parent.mkdir(parents=True, exist_ok=True)

with open(out, "w") as f:
    for record in transform_stream(HERE / "data" / "incoming" / "2026-02-09" / "site_alpha.csv",
                                   source="huawei"):
        result = validate(record)
        if result.is_valid:
            f.write(json.dumps(record) + "\n")

with open(out) as written:
    print(f"wrote {sum(1 for _ in written)} records to {out}")
