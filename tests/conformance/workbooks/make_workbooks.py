"""Write the small synthetic workbooks the conformance cases read (run by hand, then commit).

They copy the layouts of real portal exports (titles above the header, blank rows, totals
below, date cells, numbers typed as text, Excel day serials), with made-up values: see
README.md beside this file.

    python tests/conformance/workbooks/make_workbooks.py
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent


def solarman_daily() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(["Plant Name", "Updated Time", "Time Zone", "Production-Today(kWh)",
                  "Consumption-Today(kWh)", "Feed-in Power-Today(kWh)",
                  "Energy Purchased-Today(kWh)", "Energy Charged-This Day(kWh)",
                  "Energy Discharged-This Day(kWh)", "Self-used Ratio(%)"])
    # text cells, as the portal writes them; the third row has a date cell and numbers
    sheet.append(["Demo", "2024/10/26", " UTC+02:00 ", "12.50", "8.00", "6.00", "1.50", "3.00",
                  "2.00", "40.00"])
    sheet.append(["Demo", "2024/10/27", " UTC+01:00 ", "10.00", "7.00", "4.00", "1.00", "2.00",
                  "1.00", ""])
    sheet.append(["Demo", datetime(2024, 10, 28), "UTC+01:00", 9.5, 6, 3.5, 0, 1, 0.5, None])
    book.save(HERE / "solarman_daily_statistics.xlsx")


def solax_daily() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "sheet1"
    sheet.append(["site name", "Demo Site", "report type", "Daily Report", "statistical time",
                  "2023-10"])
    sheet.append([])
    sheet.append([])
    sheet.append(["Time", "PV Yield Energy (kWh)", "Feed-in Energy (kWh)",
                  "Energy From Grid (kWh)", "Consumed Energy (kWh)"])
    sheet.append(["2023-10-28", 10.6, 0, 0.5, 11.1])
    sheet.append(["2023-10-29", 6.5, 1.25, 0, 5.25])
    book.save(HERE / "solax_daily_report.xlsx")


def plant_report() -> None:
    """A FusionSolar plant report as XLSX: title row, header, hourly rows, a Total row and
    an empty second sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Plant Report"
    sheet.append(["Demo Plant Statistics Report_by Time"])
    sheet.append(["Statistical Period", "Global Irradiation (kWh/㎡)", "PV Yield (kWh)",
                  " Inverter Yield (kWh)", "Export (kWh)", "Import (kWh)"])
    sheet.append(["2026-08-31 09:00:00 DST", 0.31, 2.85, 2.8, 1.2, 0])
    sheet.append(["2026-08-31 10:00:00 DST", 0.45, "4.10", 4.05, 2.5, 0.1])
    sheet.append(["Total", 0.76, 6.95, 6.85, 3.7, 0.1])
    book.create_sheet("Sheet2")
    book.save(HERE / "fusionsolar_plant_report.xlsx")


def generic() -> None:
    """Two sheets; the data sheet has a title, a header found by its columns, Excel day
    serials in number cells, a blank row, a footer note."""
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "About"
    notes.append(["This workbook was written for odse's tests"])
    sheet = book.create_sheet("Data 2024-06")
    sheet.append(["Meter export"])
    sheet.append(["exported", "2024-06-02"])
    sheet.append(["Serial", "Meter", "Energy [Wh]", "State"])
    sheet.append([45444.0, "M1", 1500, "ok"])            # 2024-06-01 00:00
    sheet.append([45444.010416666664, "M1", "1250", "ok"])  # 00:15, a number typed as text
    sheet.append([])
    sheet.append([45444.020833333336, "M1", 0, "test"])   # 00:30, a test reading
    sheet.append(["end of export"])
    book.save(HERE / "generic_meter.xlsx")


if __name__ == "__main__":
    solarman_daily()
    solax_daily()
    plant_report()
    generic()
    print(f"wrote workbooks in {HERE}")
