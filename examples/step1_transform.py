"""Guide Step 1: read and transform exports from three OEMs (run from the repository root).

Step 1 of a batch pipeline: transform two sites' exports (the bundled example data).
"""

from pathlib import Path

from odse import transform

# Process a directory of OEM exports
data_dir = Path(__file__).parent / "data" / "incoming" / "2026-02-09"

# Each file might come from a different OEM
huawei_rows = transform(data_dir / "site_alpha.csv", source="huawei", asset_id="SITE-ALPHA")
enphase_rows = transform(data_dir / "site_beta.json", source="enphase", asset_id="SITE-BETA",
                         expected_devices=12)

# All rows now have the same schema: timestamp, kWh, error_type, ...

# For OEMs not in the built-in list, use the generic CSV mapper:
rows = transform(data_dir / "scada_export.csv", source="csv", mapping={
    "timestamp": "Timestamp",
    "kWh": "ActiveEnergy_kWh",
    "asset_id": "SiteTag",
    "extra": {"kVAr": "ReactivePower_kVAr"},
})

if __name__ == "__main__":
    for name, result in (("huawei", huawei_rows), ("enphase", enphase_rows), ("scada", rows)):
        print(f"{name}: {result.report.summary()}")
        print(f"  first record: {result[0]}")
        for reject in result.rejects[:3]:
            print(f"  rejected: {reject}")
