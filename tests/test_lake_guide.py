"""The user guide's Step 4 and its Complete Batch Pipeline, as written, on the example data."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds

from odse import enrich, to_csv, to_json, to_parquet, transform, validate_batch

INCOMING = Path(__file__).resolve().parent.parent / "examples" / "data" / "incoming" / "2026-02-09"


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _expected_tree(records: list[dict]) -> list[str]:
    # one folder per site and UTC day (timestamps in records are UTC, ending in Z)
    return sorted({f"asset_id={r['asset_id']}/year={r['timestamp'][:4]}/"
                   f"month={r['timestamp'][5:7]}/day={r['timestamp'][8:10]}/part-00000.parquet"
                   for r in records})


def _guide_pipeline(data_dir: Path, lake: Path, seen: list | None = None) -> int:
    """The guide's Complete Batch Pipeline, with its two paths as parameters."""
    sites = {
        "SITE-ALPHA": {"source": "huawei", "seller": "nersa:gen:ALPHA"},
        "SITE-BETA": {"source": "enphase", "seller": "nersa:gen:BETA", "expected_devices": 12},
        "SITE-GAMMA": {"source": "solaredge", "seller": "nersa:gen:GAMMA"},
    }
    all_records = []
    for site_id, cfg in sites.items():
        files = list(data_dir.glob(f"{site_id}.*"))
        if not files:
            print(f"SKIP {site_id}: no file found")
            continue
        kwargs = {k: v for k, v in cfg.items() if k not in ("source", "seller")}
        rows = transform(files[0], source=cfg["source"], asset_id=site_id, **kwargs)
        result = validate_batch(rows, level="semantic", capacity_kw=10.0)
        print(f"{site_id}: {result.summary}")
        if result.invalid > 0:
            print(f"  WARNING: {result.invalid} invalid records skipped")
            rows = [r for i, r in enumerate(rows) if i not in {idx for idx, _ in result.errors}]
        rows = enrich(rows, {
            "seller_party_id": cfg["seller"],
            "settlement_type": "bilateral",
        })
        all_records.extend(rows)
    if seen is not None:
        seen.extend(all_records)
    to_parquet(all_records, str(lake) + "/", partition_by=["asset_id", "year", "month", "day"])
    print(f"Wrote {len(all_records)} records to Parquet")
    return len(all_records)


def test_the_complete_batch_pipeline_twice(tmp_path, capsys):
    lake = tmp_path / "lake" / "energy"
    records: list[dict] = []
    written = _guide_pipeline(INCOMING, lake, records)
    tree = _tree(lake)
    print("\n".join(tree))
    assert tree == _expected_tree(records)
    # the Enphase export starts at local midnight (+02:00): 22:00 on the 8th in UTC
    assert "asset_id=SITE-BETA/year=2026/month=02/day=08/part-00000.parquet" in tree
    assert {path.split("/")[0] for path in tree} == {
        "asset_id=SITE-ALPHA", "asset_id=SITE-BETA", "asset_id=SITE-GAMMA"}
    table = ds.dataset(lake, partitioning="hive").to_table()
    assert table.num_rows == written
    assert set(table.column("seller_party_id").to_pylist()) == {
        "nersa:gen:ALPHA", "nersa:gen:BETA", "nersa:gen:GAMMA"}
    # the guide's cron re-runs the same day: the default mode must not duplicate
    assert _guide_pipeline(INCOMING, lake) == written
    assert ds.dataset(lake, partitioning="hive").count_rows() == written
    assert _tree(lake) == tree
    assert "Wrote" in capsys.readouterr().out


def test_step_4_snippets(tmp_path):
    huawei_rows = transform(INCOMING / "SITE-ALPHA.csv", source="huawei", asset_id="SITE-ALPHA")
    enphase_rows = transform(INCOMING / "SITE-BETA.json", source="enphase",
                             asset_id="SITE-BETA", expected_devices=12)
    all_rows = huawei_rows + enphase_rows
    to_parquet(all_rows, str(tmp_path / "data/lake/energy/"),
               partition_by=["asset_id", "year", "month", "day"])
    to_json(all_rows, tmp_path / "data/archive/2026-02-09.jsonl")
    to_csv(all_rows, tmp_path / "data/export/2026-02-09.csv")
    lines = (tmp_path / "data/archive/2026-02-09.jsonl").read_text().splitlines()
    assert len(lines) == len(all_rows)
    assert json.loads(lines[0]) == all_rows[0]
    header = (tmp_path / "data/export/2026-02-09.csv").read_text().splitlines()[0]
    assert header.startswith("timestamp,kWh,error_type")
    lake = ds.dataset(tmp_path / "data/lake/energy", partitioning="hive")
    assert lake.count_rows() == len(all_rows)
    assert "asset_id=SITE-ALPHA/year=2026/month=02/day=09/part-00000.parquet" in _tree(
        tmp_path / "data/lake/energy")


def test_the_guides_incremental_pattern_on_a_growing_export(tmp_path):
    """Common Patterns: state file, string filter, default mode; earlier rows are kept."""
    lake = tmp_path / "data/lake/energy/"
    state_file = tmp_path / "data/state/last_run.json"
    export = transform(INCOMING / "SITE-ALPHA.csv", source="huawei", asset_id="SITE-001")
    deliveries = [export[:100], export[:200], export]  # the export grows through the day
    for delivered in deliveries:
        if state_file.exists():
            state = json.loads(state_file.read_text())
            last_ts = state.get("last_timestamp")
        else:
            last_ts = None
        rows = list(delivered)
        if last_ts:
            rows = [r for r in rows if r["timestamp"] > last_ts]
        if rows:
            to_parquet(rows, str(lake), partition_by=["asset_id", "year", "month"])
            state_file.parent.mkdir(parents=True, exist_ok=True)
            state_file.write_text(json.dumps({"last_timestamp": rows[-1]["timestamp"]}))
    assert ds.dataset(lake, partitioning="hive").count_rows() == len(export)
    assert _tree(lake) == ["asset_id=SITE-001/year=2026/month=02/part-00000.parquet"]
