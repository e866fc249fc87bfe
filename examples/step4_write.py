"""Guide Step 4: write the records to a Parquet lake, JSON Lines and CSV.

Everything is written under examples/out/.
"""

from pathlib import Path

from step1_transform import enphase_rows, huawei_rows

from odse import to_csv, to_json, to_parquet

out = Path(__file__).parent / "out"

all_rows = huawei_rows + enphase_rows
to_parquet(all_rows, str(out / "lake" / "energy"),
           partition_by=["asset_id", "year", "month", "day"])

to_json(all_rows, str(out / "archive" / "2026-02-09.jsonl"))

to_csv(all_rows, str(out / "export" / "2026-02-09.csv"))

if __name__ == "__main__":
    for path in sorted((out / "lake" / "energy").rglob("*.parquet")):
        print(path.relative_to(out))
