"""Guide Step 2: validate the transformed records (run from anywhere).

Step 2: validate the rows of Step 1, at the schema and the semantic level.
"""

from step1_transform import huawei_rows

from odse import validate_batch

result = validate_batch(huawei_rows)
if result.invalid > 0:
    for idx, error in result.errors:
        print(f"  Row {idx}: {error.code} — {error.message}")
    raise RuntimeError(f"{result.invalid} invalid records")
print(result.summary)

# For physical plausibility checks, add semantic validation:
result = validate_batch(huawei_rows, level="semantic", capacity_kw=10.0)
for idx, warning in result.errors:
    print(f"  Row {idx}: {warning.message}")
# Warnings are kept apart from errors and never make a record invalid:
print(result.summary)
for idx, warning in result.warnings[:3]:
    print(f"  warning, row {idx}: {warning.code}: {warning.message}")
