#!/bin/bash
# A daily cron job for two sites: transform each site's export into one Parquet lake, then
# validate what was written (see docs/cli.md, "Cron jobs").
#
#   * the Enphase export needs the site's microinverter count: --param expected_devices=12;
#   * both sources write into one Parquet lake. The default mode, merge, upserts by asset_id
#     and timestamp, so re-running a day never duplicates rows and never drops the other
#     site's partitions;
#   * validation reads what was written: each site's partition of the lake;
#   * rejected rows are kept in $REJECTS_DIR; the run reports (--report) and the validation
#     reports in $REPORT_DIR;
#   * set -o pipefail and -u as well as -e: any failure stops the job with its exit code
#     (1 invalid records, 2 bad usage or mapping, 3 missing input or unwritable output).
#
# Paths come from the environment and default to /data/... On the bundled example data:
#   DATE=2026-02-09 INPUT_DIR=examples/data/incoming/2026-02-09 \
#   OUTPUT_DIR=/tmp/odse-demo/lake/energy REJECTS_DIR=/tmp/odse-demo/rejects \
#   REPORT_DIR=/tmp/odse-demo/reports examples/cron.sh
set -euo pipefail

DATE=${DATE:-$(date +%Y-%m-%d)}
INPUT_DIR=${INPUT_DIR:-/data/incoming/$DATE}
OUTPUT_DIR=${OUTPUT_DIR:-/data/lake/energy}
REJECTS_DIR=${REJECTS_DIR:-/data/rejects/$DATE}
REPORT_DIR=${REPORT_DIR:-/data/reports/$DATE}
ODSE=${ODSE:-odse}

mkdir -p "$REPORT_DIR"

# Transform each source
$ODSE transform --source huawei \
  --input "$INPUT_DIR/site_alpha.csv" \
  --asset-id SITE-ALPHA \
  --format parquet \
  --rejects "$REJECTS_DIR/site_alpha.csv" \
  --report "$REPORT_DIR/site_alpha-run.json" \
  -o "$OUTPUT_DIR/"

$ODSE transform --source enphase \
  --input "$INPUT_DIR/site_beta.json" \
  --asset-id SITE-BETA \
  --param expected_devices=12 \
  --format parquet \
  --rejects "$REJECTS_DIR/site_beta.csv" \
  --report "$REPORT_DIR/site_beta-run.json" \
  -o "$OUTPUT_DIR/"

# Validate what was written: each site's partitions in the lake
$ODSE validate --input "$OUTPUT_DIR/asset_id=SITE-ALPHA" --level semantic --capacity-kw 10 \
  > "$REPORT_DIR/site_alpha.json"
$ODSE validate --input "$OUTPUT_DIR/asset_id=SITE-BETA" --level semantic --capacity-kw 10 \
  > "$REPORT_DIR/site_beta.json"
