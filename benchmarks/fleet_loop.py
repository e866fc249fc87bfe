"""The hand-written fleet loop: ``transform`` + ``to_parquet`` per file, as users write it.

    python benchmarks/fleet_loop.py FLEET LAKE

Run under this checkout's venv (odse) or the venv of the original odse 0.12.0 (started with
``python -I``): it imports nothing from the repository. FLEET is a folder made by
``tools/gen_fleet.py``; its manifest says each file's site and shape. The last line printed
is a JSON object with ``files``, ``records`` and ``call_s`` (seconds without imports).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

PARTITION_BY = ["asset_id", "year", "month", "day"]
GENERIC = {"timestamp": "Timestamp", "kWh": "Energy_kWh", "extra": {"kVAr": "kVAr"}}
SOURCES = {
    "huawei": ("huawei", {"interval_minutes": 5}),
    "enphase": ("enphase", {"expected_devices": 12}),
    "solaredge": ("solaredge", {}),
    "generic": ("csv", {"mapping": GENERIC}),
}


def main() -> int:
    from odse import to_parquet, transform

    fleet, lake = Path(sys.argv[1]), sys.argv[2]
    manifest = json.loads((fleet / "manifest.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    files = records = 0
    for rel, entry in sorted(manifest["files"].items()):
        source, params = SOURCES[entry["shape"]]
        rows = transform(fleet / rel, source, asset_id=entry["site"], timezone="+02:00",
                         **params)
        to_parquet(rows, lake, partition_by=PARTITION_BY)
        files += 1
        records += len(rows)
    print(json.dumps({"files": files, "records": records,
                      "call_s": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
