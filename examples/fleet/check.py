"""Check a fleet lake against the generator's manifest and the ingest log.

    python examples/fleet/check.py [FLEET]        (default: examples/fleet)

The manifest (tools/gen_fleet.py) holds, per file, the records and the energy computed from
the values written, without odse. Prints the lake's totals beside the manifest's and exits 1
when they differ, when a file in the lake is not in the log (or back), or when the log's
record count for a file is not what the lake holds for it.
"""

import json
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds

from odse import read_log

fleet = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
lake = fleet / "out" / "lake" / "energy"
manifest = json.loads((fleet / "manifest.json").read_text())["files"]
table = ds.dataset(lake, partitioning="hive").to_table(columns=["kWh", "source_file"])
per_file = {}
for row in table.group_by("source_file").aggregate([("kWh", "count")]).to_pylist():
    per_file[row["source_file"]] = row["kWh_count"]
want_rows = sum(f["records"] for f in manifest.values())
want_kwh = sum(f["kwh"] for f in manifest.values())
kwh = pc.sum(table.column("kWh")).as_py() or 0.0
latest = read_log(str(lake)).latest()
problems = []
if table.num_rows != want_rows:
    problems.append(f"rows: lake {table.num_rows}, manifest {want_rows}")
if abs(kwh - want_kwh) > 1e-6 * max(1.0, want_kwh):
    problems.append(f"kWh: lake {kwh:.6f}, manifest {want_kwh:.6f}")
if set(latest) != set(per_file):
    problems.append(f"{len(set(per_file) ^ set(latest))} files in the lake or the log only")
wrong = [uri for uri, e in latest.items() if e["records_written"] != per_file.get(uri)]
if wrong:
    problems.append(f"{len(wrong)} files whose log count is not the lake's, e.g. {wrong[0]}")
print(f"lake: {table.num_rows} records, {kwh:.3f} kWh from {len(per_file)} files; "
      f"manifest: {want_rows} records, {want_kwh:.3f} kWh from {len(manifest)} files; "
      f"log: {len(latest)} files in {len(read_log(str(lake)).runs)} runs")
print("CONSISTENT" if not problems else "INCONSISTENT: " + "; ".join(problems))
sys.exit(1 if problems else 0)
