"""Guide Step 3: inject market context before writing."""

from step1_transform import huawei_rows

from odse import enrich

enriched = enrich(huawei_rows, {
    "seller_party_id": "nersa:gen:SOLARPK-001",
    "settlement_type": "bilateral",
    "tariff_currency": "ZAR",
})

if __name__ == "__main__":
    print(enriched is huawei_rows, enriched[0])
