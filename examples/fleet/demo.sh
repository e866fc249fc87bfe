#!/usr/bin/env bash
# The fleet ingest, step by step: first run, a re-run, a changed and a late file, a run
# killed with SIGKILL in the middle and run again. After each step, check.py compares the
# lake with the generator's manifest (totals computed without odse) and with the ingest log.
#   bash examples/fleet/demo.sh [SITES] [DAYS]          (default 40 x 30)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=../..
SITES=${1:-40}
DAYS=${2:-30}
ODSE=${ODSE:-odse}
PY=${PYTHON:-python}
LATE=FLEET-007/2026-01-03
CHANGED=FLEET-002/2026-01-10
rm -rf incoming out manifest.json
step() { echo; echo "== $*"; }

step "generate $SITES sites x $DAYS days, holding back $LATE"
$PY $ROOT/tools/gen_fleet.py . --sites "$SITES" --days "$DAYS" --hold "$LATE"

step "first run"
time $ODSE run pipeline.yaml -q
$PY check.py .

step "second run: nothing new"
time $ODSE run pipeline.yaml -q
$PY check.py .

step "a changed export ($CHANGED) and a late one ($LATE)"
$PY $ROOT/tools/gen_fleet.py . --sites "$SITES" --days "$DAYS" --only "$CHANGED" --variant 1
$PY $ROOT/tools/gen_fleet.py . --sites "$SITES" --days "$DAYS" --only "$LATE"
$ODSE run pipeline.yaml --dry-run | grep -v "^skip" || true
$ODSE run pipeline.yaml --json out/run3.json -q
$PY -c "import json; r=json.load(open('out/run3.json')); print([(f['uri'].split('incoming/')[1], f['reason']) for f in r['files'] if f['action']=='ingest'])"
$PY check.py .

step "kill -9 in the middle of a run on a fresh lake, then run again"
rm -rf out/lake
$ODSE run pipeline.yaml -q & pid=$!
sleep "${KILL_AFTER:-8}"
kill -9 "$pid" 2>/dev/null && echo "killed $pid" || echo "(the run had finished)"
wait "$pid" 2>/dev/null || true
ls -a out/ | tr '\n' ' '; echo
$PY -c "
from odse import read_log; import pathlib
log = read_log('out/lake/energy'); parts = list(pathlib.Path('out/lake/energy').glob('asset_id=*/*/*/*'))
print(f'after the kill: {len(parts)} day partitions in the lake, {len(log.latest())} files in the log')"
time $ODSE run pipeline.yaml -q
$PY check.py .
