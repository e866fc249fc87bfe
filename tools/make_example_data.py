"""Write the example data under examples/data/ (deterministic; run after changing it).

    python tools/make_example_data.py

The files imitate what the guide's three sites deliver for 2026-02-09 (local time, South
Africa, UTC+02:00), plus a generic SCADA export and a 7-day historian export with a
cumulative energy counter. Values follow a clear-sky curve with deterministic clouds.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "examples" / "data"
DAY = datetime(2026, 2, 9)
SAST = timezone(timedelta(hours=2))


def noise(*key: object) -> float:
    """Return a deterministic number in [0, 1) for ``key``."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sun(local: datetime) -> float:
    """Return clear-sky output as a fraction of capacity for a local time."""
    hour = local.hour + local.minute / 60
    if not 5.5 < hour < 19.5:
        return 0.0
    return max(0.0, math.sin(math.pi * (hour - 5.5) / 14.0)) ** 1.3


def cloud(site: str, local: datetime) -> float:
    """Return a cloud factor in [0.35, 1] that drifts over the day."""
    slot = local.hour * 4 + local.minute // 15
    return 0.35 + 0.65 * (0.6 + 0.4 * noise(site, local.date(), slot))


def huawei(folder: Path) -> None:
    lines = ["timestamp,power,inverter_state,run_state"]
    for i in range(288):
        local = DAY + timedelta(minutes=5 * i)
        if 13 * 60 <= local.hour * 60 + local.minute < 15 * 60:
            continue  # a two-hour communication gap: the export simply has no rows
        kw = round(10.0 * sun(local) * cloud("alpha", local), 3)
        state, run = (512, 1) if kw > 0 else (40960, 1)
        if local.hour == 11 and local.minute in (20, 25):
            state = 513  # a grid-side warning
        if local.hour == 16 and local.minute == 40:
            lines.append(f"{local:%Y-%m-%d %H:%M:%S},N/A,{state},{run}")
            continue
        lines.append(f"{local:%Y-%m-%d %H:%M:%S},{kw},{state},{run}")
    text = "\n".join(lines) + "\n"
    (folder / "site_alpha.csv").write_text(text)
    (folder / "SITE-ALPHA.csv").write_text(text)


def enphase(folder: Path) -> None:
    intervals = []
    for i in range(288):
        end = DAY.replace(tzinfo=SAST) + timedelta(minutes=5 * (i + 1))
        local = end.replace(tzinfo=None) - timedelta(minutes=2, seconds=30)
        watts = 3600 * sun(local) * cloud("beta", local)
        reporting = 12 if watts > 0 else 0
        if 10 <= local.hour < 11 and local.minute < 30:
            reporting = 11 if local.minute < 15 else 9   # a few microinverters drop out
        wh = round(watts * 5 / 60 * reporting / 12, 1)
        intervals.append({"end_at": int(end.timestamp()), "wh_del": wh,
                          "devices_reporting": reporting})
    doc = {"system_id": 4815162, "total_devices": 12, "granularity": "5mins",
           "production": intervals}
    text = json.dumps(doc, indent=1) + "\n"
    (folder / "site_beta.json").write_text(text)
    (folder / "SITE-BETA.json").write_text(text)


def solaredge(folder: Path) -> None:
    telemetries = []
    for i in range(288):
        local = DAY + timedelta(minutes=5 * i, seconds=int(3 * noise("gamma-jitter", i)))
        watts = round(10000 * sun(local) * cloud("gamma", local), 1)
        mode = "MPPT" if watts > 0 else ("NIGHT" if local.hour < 12 else "SLEEPING")
        if local.hour == 14 and 0 <= local.minute < 20:
            mode, watts = "THROTTLED", round(watts * 0.6, 1)
        volts = round(230 + 4 * noise("gamma-v", i), 1)
        telemetries.append({
            "date": f"{local:%Y-%m-%d %H:%M:%S}", "totalActivePower": watts,
            "dcVoltage": round(380 + 20 * noise("gamma-dc", i), 1) if watts else None,
            "inverterMode": mode, "operationMode": 0,
            "L1Data": {"acCurrent": round(watts / volts, 3), "acVoltage": volts,
                       "acFrequency": round(50 + 0.04 * (noise("gamma-f", i) - 0.5), 3),
                       "apparentPower": round(watts * 1.02, 1),
                       "activePower": watts, "reactivePower": round(watts * 0.2, 1),
                       "cosPhi": 0.98 if watts else 0.0}})
    doc = {"data": {"count": len(telemetries), "telemetries": telemetries}}
    (folder / "SITE-GAMMA.json").write_text(json.dumps(doc, indent=1) + "\n")


def scada(folder: Path) -> None:
    lines = ["Timestamp,ActiveEnergy_kWh,SiteTag,ReactivePower_kVAr"]
    for i in range(96):
        local = DAY + timedelta(minutes=15 * i)
        for site, cap in (("SITE-DELTA", 250.0), ("SITE-EPSILON", 120.0)):
            kwh = round(cap * sun(local) * cloud(site, local) / 4, 3)
            kvar = round(kwh * 0.3, 3)
            lines.append(f"{local:%Y-%m-%d %H:%M:%S},{kwh},{site},{kvar}")
    (folder / "scada_export.csv").write_text("\n".join(lines) + "\n")


def historian(folder: Path) -> None:
    lines = ["Timestamp,ActiveEnergy_kWh,ReactivePower_kVAr,SiteTag,InvStatus"]
    counter = 1520.0
    start = DAY - timedelta(days=6)
    for i in range(7 * 288):
        local = start + timedelta(minutes=5 * i)
        kw = 50 * sun(local) * cloud("hist", local)
        status = 1 if kw > 0 else 0
        if local.date() == (start + timedelta(days=3)).date() and local.hour == 12 \
                and local.minute < 30:
            status, kw = -1, 0.0  # an inverter trip
        counter += kw * 5 / 60
        if i == 4 * 288 + 96:
            counter = kw * 5 / 60  # the meter was replaced: its counter starts again
        lines.append(f"{local:%Y/%m/%d %H:%M:%S},{counter:.3f},{kw * 0.25:.3f},HIST-SITE-001,"
                     f"{status}")
    (folder / "generic_historian_7d.csv").write_text("\n".join(lines) + "\n")


def main() -> None:
    incoming = ROOT / "incoming" / "2026-02-09"
    shutil.rmtree(ROOT / "incoming", ignore_errors=True)
    incoming.mkdir(parents=True)
    huawei(incoming)
    enphase(incoming)
    solaredge(incoming)
    scada(incoming)
    historian_dir = ROOT / "historian"
    historian_dir.mkdir(parents=True, exist_ok=True)
    historian(historian_dir)
    print(f"wrote example data under {ROOT}")


if __name__ == "__main__":
    main()
