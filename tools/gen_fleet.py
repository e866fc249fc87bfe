"""Generate a deterministic fleet of OEM exports: N sites x D days, one file per site and day.

    python tools/gen_fleet.py OUT [--sites 40] [--days 30] [--start 2026-01-01]
                              [--hold SITE/DATE ...] [--only SITE/DATE --variant K]

Writes ``OUT/incoming/<shape>/<asset id>/<date>.<ext>`` and ``OUT/manifest.json``. Sites take turns
among four shapes: Huawei FusionSolar CSV (5-minute power in kW), Enphase Envoy interval
JSON (5-minute Wh), SolarEdge site energy JSON (15-minute Wh) and a generic historian CSV
(15-minute kWh). Local times are UTC+02:00. A few rows are deliberately unusable (an ``N/A``
power, a null energy value), one in about every ten files. JSON is compact, as the portals'
APIs answer.

The manifest is the independent truth for tests and benchmarks: per file, the data rows
written, the rows that must be rejected, the records expected and their total energy in
kWh, computed here from the values written, not by odse.

``--hold SITE/DATE`` leaves a file out (to deliver it late); ``--only SITE/DATE`` writes just
that file, with ``--variant K`` giving other values (a changed export). The manifest is
updated in place. Standard library only; the same arguments always give the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
from pathlib import Path

OFFSET = dt.timedelta(hours=2)
SHAPES = ("huawei", "enphase", "solaredge", "generic")
EXT = {"huawei": "csv", "enphase": "json", "solaredge": "json", "generic": "csv"}
GENERIC_MAPPING = {"timestamp": "Timestamp", "kWh": "Energy_kWh", "extra": {"kVAr": "kVAr"}}


def site_ids(count: int) -> list[str]:
    """The fleet's asset ids: FLEET-001 ..."""
    return [f"FLEET-{i + 1:03d}" for i in range(count)]


def shape_of(index: int) -> str:
    """The export shape of the site with this index."""
    return SHAPES[index % len(SHAPES)]


def _solar(local: dt.datetime, peak: float, rng: random.Random) -> float:
    """Power [kW] at a local time: a clear-sky bell between 06:00 and 18:00, with clouds."""
    hour = local.hour + local.minute / 60
    if not 6 <= hour <= 18:
        return 0.0
    shape = math.sin(math.pi * (hour - 6) / 12) ** 1.5
    return round(peak * shape * (0.6 + 0.4 * rng.random()), 3)


def _rng(site: str, day: dt.date, variant: int) -> random.Random:
    return random.Random(f"{site}/{day.isoformat()}/{variant}")


def _huawei(site: str, day: dt.date, variant: int) -> tuple[str, dict]:
    rng = _rng(site, day, variant)
    bad = rng.random() < 0.1
    bad_row = rng.randrange(100, 200)
    start = dt.datetime.combine(day, dt.time())
    lines = ["timestamp,power,inverter_state,run_state"]
    total, rejected = 0.0, 0
    for i in range(288):
        local = start + dt.timedelta(minutes=5 * i)
        kw = _solar(local, 10.0, rng)
        if bad and i == bad_row:
            lines.append(f"{local:%Y-%m-%d %H:%M:%S},N/A,512,1")
            rejected += 1
            continue
        state = 512 if kw > 0 else 40960
        lines.append(f"{local:%Y-%m-%d %H:%M:%S},{kw},{state},1")
        total += kw * 5 / 60
    return "\n".join(lines) + "\n", {"rows": 288, "rejected": rejected,
                                     "records": 288 - rejected, "kwh": total}


def _enphase(site: str, day: dt.date, variant: int) -> tuple[str, dict]:
    rng = _rng(site, day, variant)
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone(OFFSET))
    production, total = [], 0.0
    for i in range(288):
        begin = start + dt.timedelta(minutes=5 * i)
        wh = round(_solar(begin.replace(tzinfo=None), 7.2, rng) * 1000 * 5 / 60, 1)
        devices = 12 if wh > 0 else 0
        end = begin + dt.timedelta(minutes=5)
        production.append({"end_at": int(end.timestamp()), "wh_del": wh,
                           "devices_reporting": devices})
        total += wh / 1000
    doc = {"system_id": 4815000 + int(site[-3:]), "total_devices": 12, "granularity": "5mins",
           "production": production}
    return json.dumps(doc) + "\n", {"rows": 288, "rejected": 0, "records": 288,
                                              "kwh": total}


def _solaredge(site: str, day: dt.date, variant: int) -> tuple[str, dict]:
    rng = _rng(site, day, variant)
    bad = rng.random() < 0.1
    bad_row = rng.randrange(40, 60)
    start = dt.datetime.combine(day, dt.time())
    values, total, rejected = [], 0.0, 0
    for i in range(96):
        local = start + dt.timedelta(minutes=15 * i)
        wh = round(_solar(local, 27.6, rng) * 1000 * 15 / 60, 1)
        if bad and i == bad_row:
            values.append({"date": f"{local:%Y-%m-%d %H:%M:%S}", "value": None})
            rejected += 1
            continue
        values.append({"date": f"{local:%Y-%m-%d %H:%M:%S}", "value": wh})
        total += wh / 1000
    doc = {"energy": {"timeUnit": "QUARTER_OF_AN_HOUR", "unit": "Wh", "values": values}}
    return json.dumps(doc) + "\n", {"rows": 96, "rejected": rejected,
                                              "records": 96 - rejected, "kwh": total}


def _generic(site: str, day: dt.date, variant: int) -> tuple[str, dict]:
    rng = _rng(site, day, variant)
    start = dt.datetime.combine(day, dt.time())
    lines = ["Timestamp,Energy_kWh,kVAr"]
    total = 0.0
    for i in range(96):
        local = start + dt.timedelta(minutes=15 * i)
        kwh = round(_solar(local, 50.0, rng) * 15 / 60, 4)
        lines.append(f"{local:%Y-%m-%d %H:%M:%S},{kwh},{round(kwh * 0.1, 4)}")
        total += kwh
    return "\n".join(lines) + "\n", {"rows": 96, "rejected": 0, "records": 96, "kwh": total}


WRITERS = {"huawei": _huawei, "enphase": _enphase, "solaredge": _solaredge,
           "generic": _generic}


def write_file(out: Path, sites: list[str], site: str, day: dt.date, variant: int = 0) -> dict:
    """Write one site's export for one day; return its manifest entry."""
    shape = shape_of(sites.index(site))
    text, facts = WRITERS[shape](site, day, variant)
    rel = f"incoming/{shape}/{site}/{day.isoformat()}.{EXT[shape]}"
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return {"file": rel, "site": site, "shape": shape, "variant": variant, **facts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", default="2026-01-01")
    parser.add_argument("--hold", action="append", default=[], metavar="SITE/DATE")
    parser.add_argument("--only", metavar="SITE/DATE")
    parser.add_argument("--variant", type=int, default=0)
    args = parser.parse_args(argv)
    sites = site_ids(args.sites)
    manifest_path = args.out / "manifest.json"
    manifest = {"sites": args.sites, "mapping": GENERIC_MAPPING, "files": {}}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if args.only:
        site, date = args.only.split("/")
        entry = write_file(args.out, sites, site, dt.date.fromisoformat(date), args.variant)
        manifest["files"][entry["file"]] = entry
    else:
        start = dt.date.fromisoformat(args.start)
        held = set(args.hold)
        manifest["files"] = {}
        for site in sites:
            for d in range(args.days):
                day = start + dt.timedelta(days=d)
                if f"{site}/{day.isoformat()}" in held:
                    continue
                entry = write_file(args.out, sites, site, day)
                manifest["files"][entry["file"]] = entry
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n",
                             encoding="utf-8")
    files = manifest["files"].values()
    print(f"{len(manifest['files'])} files, {sum(f['records'] for f in files)} records, "
          f"{sum(f['kwh'] for f in files):.3f} kWh -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
