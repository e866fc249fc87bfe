"""Guide: Incremental Processing, as written (paths replaced).

Run it twice: the second run finds no new records. The lake keeps every earlier row of the
month, because to_parquet's default mode merges (upserts by asset_id and timestamp).
"""

import json
from pathlib import Path

from odse import to_parquet, transform

HERE = Path(__file__).resolve().parent
state_file = HERE / "out" / "incremental" / "state" / "last_run.json"

# Load state
if state_file.exists():
    state = json.loads(state_file.read_text())
    last_ts = state.get("last_timestamp")
else:
    last_ts = None

# Transform new data
rows = transform(HERE / "data" / "incoming" / "2026-02-09" / "site_alpha.csv", source="huawei",
                 asset_id="SITE-001")

# Filter to only new records
if last_ts:
    rows = [r for r in rows if r["timestamp"] > last_ts]

if rows:
    to_parquet(rows, str(HERE / "out" / "incremental" / "lake" / "energy"),
               partition_by=["asset_id", "year", "month"])
    # Save state
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({"last_timestamp": rows[-1]["timestamp"]}))
    print(f"Wrote {len(rows)} new records")
else:
    print("No new records")
