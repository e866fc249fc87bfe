"""A complete batch pipeline, on the bundled example data.

    python examples/pipeline.py

Reads the exports of three sites (Huawei CSV, Enphase JSON, SolarEdge JSON) from
examples/data/incoming/2026-02-09/, validates, enriches, and writes a Parquet lake to
examples/out/lake/energy/.
"""

from pathlib import Path

from odse import enrich, to_parquet, transform, validate_batch

HERE = Path(__file__).resolve().parent
LAKE = HERE / "out" / "lake" / "energy"

# Configuration
SITES = {
    "SITE-ALPHA": {"source": "huawei", "seller": "nersa:gen:ALPHA"},
    "SITE-BETA":  {"source": "enphase", "seller": "nersa:gen:BETA", "expected_devices": 12},
    "SITE-GAMMA": {"source": "solaredge", "seller": "nersa:gen:GAMMA"},
}

data_dir = HERE / "data" / "incoming" / "2026-02-09"
all_records = []

for site_id, cfg in SITES.items():
    # Find the file for this site
    files = list(data_dir.glob(f"{site_id}.*"))
    if not files:
        print(f"SKIP {site_id}: no file found")
        continue

    # Transform
    kwargs = {k: v for k, v in cfg.items() if k not in ("source", "seller")}
    rows = transform(files[0], source=cfg["source"], asset_id=site_id, **kwargs)

    # Validate
    result = validate_batch(rows, level="semantic", capacity_kw=10.0)
    print(f"{site_id}: {result.summary}")
    if result.invalid > 0:
        print(f"  WARNING: {result.invalid} invalid records skipped")
        rows = [r for i, r in enumerate(rows) if i not in {idx for idx, _ in result.errors}]

    # Enrich
    rows = enrich(rows, {
        "seller_party_id": cfg["seller"],
        "settlement_type": "bilateral",
    })

    all_records.extend(rows)

# Write to lake
to_parquet(all_records, str(LAKE), partition_by=["asset_id", "year", "month", "day"])
print(f"Wrote {len(all_records)} records to Parquet")

if __name__ == "__main__":
    for path in sorted(LAKE.rglob("*.parquet")):
        print("  ", path.relative_to(HERE / "out"))
