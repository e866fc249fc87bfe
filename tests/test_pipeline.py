"""`odse run` / run_pipeline on a small generated fleet: once each, changed and late files,
a SIGKILL mid-commit, lineage, and spec errors with file, line and key path.

Totals are checked against the generator's manifest (tools/gen_fleet.py), which computes
every file's records and energy from the values it wrote, not with odse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from odse.errors import PipelineError
from odse.pipeline import load_pipeline, read_log, run_pipeline

ROOT = Path(__file__).resolve().parent.parent
GEN = ROOT / "tools" / "gen_fleet.py"
SITES, DAYS = 8, 3


def gen(fleet: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(GEN), str(fleet), "--sites", str(SITES), "--days",
                    str(DAYS), *args], check=True, capture_output=True)


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    target = tmp_path / "fleet"
    target.mkdir()
    for name in ("pipeline.yaml", "generic_mapping.yaml"):
        shutil.copy(ROOT / "examples" / "fleet" / name, target / name)
    gen(target, "--hold", "FLEET-003/2026-01-02")
    return target


def lake_of(fleet: Path) -> Path:
    return fleet / "out" / "lake" / "energy"


def totals(fleet: Path) -> tuple[int, float, dict[str, int]]:
    table = ds.dataset(lake_of(fleet), partitioning="hive").to_table()
    per_file: dict[str, int] = {}
    for name in table.column("source_file").to_pylist():
        per_file[name] = per_file.get(name, 0) + 1
    return table.num_rows, float(sum(table.column("kWh").to_pylist())), per_file


def expected(fleet: Path) -> tuple[int, float]:
    manifest = json.loads((fleet / "manifest.json").read_text())
    files = manifest["files"].values()
    return sum(f["records"] for f in files), sum(f["kwh"] for f in files)


def check_consistent(fleet: Path) -> None:
    rows, kwh, per_file = totals(fleet)
    want_rows, want_kwh = expected(fleet)
    assert rows == want_rows
    assert kwh == pytest.approx(want_kwh, rel=1e-9)
    latest = read_log(str(lake_of(fleet))).latest()
    assert set(latest) == set(per_file), "every file in the lake is in the log, and back"
    for uri, entry in latest.items():
        assert entry["records_written"] == per_file[uri], uri


def test_first_run_second_run_changed_and_late(fleet: Path):
    spec = fleet / "pipeline.yaml"
    first = run_pipeline(spec, jobs=2)
    n_files = SITES * DAYS - 1
    assert first.exit_code == 0, first.summary()
    assert f"ingested {n_files} of {n_files} files, skipped 0" in first.summary()
    check_consistent(fleet)
    # the manifest's rejected rows are the transform's rejects, by code
    manifest = json.loads((fleet / "manifest.json").read_text())
    assert sum(o.rows_rejected for o in first.outcomes) == sum(
        f["rejected"] for f in manifest["files"].values())

    second = run_pipeline(spec, jobs=2)
    assert second.outcomes == []
    assert f"ingested 0 of {n_files} files, skipped {n_files}" in second.summary()
    assert {f.reason.split(" since")[0] for f in second.plan.files} == {"unchanged"}
    assert second.write is None, "nothing new: the lake is not touched"

    gen(fleet, "--only", "FLEET-002/2026-01-01", "--variant", "1")   # a changed export
    gen(fleet, "--only", "FLEET-003/2026-01-02")                     # the late one
    third = run_pipeline(spec, jobs=1)
    done = {o.task.rel: o.task.reason for o in third.outcomes}
    assert done == {"enphase/FLEET-002/2026-01-01.json": "content changed",
                    "solaredge/FLEET-003/2026-01-02.json": "new"}
    check_consistent(fleet)
    # the late day landed in its own partitions, beside the days around it
    late = lake_of(fleet) / "asset_id=FLEET-003" / "year=2026" / "month=01" / "day=02"
    assert len(list(late.glob("*.parquet"))) == 1
    assert len(read_log(str(lake_of(fleet))).runs) == 2


def test_lineage_points_at_the_row(fleet: Path):
    run_pipeline(fleet / "pipeline.yaml", jobs=1)
    table = ds.dataset(lake_of(fleet), partitioning="hive").to_table()
    rows = table.filter(ds.field("source_location") == "line 100").to_pylist()
    huawei = next(r for r in rows if r["source_file"].endswith(".csv")
                  and "/huawei/" in r["source_file"])
    line = Path(huawei["source_file"]).read_text().splitlines()[99]
    kw = float(line.split(",")[1])
    assert huawei["kWh"] == pytest.approx(kw * 5 / 60)
    assert huawei["ingest_run"] in read_log(str(lake_of(fleet))).runs
    json_rows = table.filter(ds.field("source_location") == "$.production[7]").to_pylist()
    assert json_rows and all("/enphase/" in r["source_file"] for r in json_rows)


KILLER = r"""
import os, signal, sys
import odse.writers.commit as commit
from odse.pipeline import run_pipeline

commits = 0
def hook(step):
    global commits
    if step == "committed":
        commits += 1
        if commits == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
commit._HOOK = hook
if __name__ == "__main__":
    run_pipeline(sys.argv[1], jobs=1)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_killed_mid_commit_then_rerun(fleet: Path, tmp_path: Path):
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    done = subprocess.run([sys.executable, str(script), str(fleet / "pipeline.yaml"), "5"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == -9, done.stderr
    # some partitions are in, the log is not: the run never happened as far as the log knows
    assert read_log(str(lake_of(fleet))).entries == []
    assert list(lake_of(fleet).glob("asset_id=*"))
    again = run_pipeline(fleet / "pipeline.yaml", jobs=2)
    assert again.exit_code == 0
    assert {o.task.reason for o in again.outcomes} == {"new"}
    check_consistent(fleet)
    staging = [p.name for p in lake_of(fleet).parent.iterdir() if p.name.startswith(".")]
    assert staging == [], "the killed run's staging folder is cleaned up"
    # beside the partitions, only the log (one file: the killed run left none)
    names = {p.suffix for p in lake_of(fleet).rglob("*") if p.is_file()
             and "_odse" not in p.parts}
    assert names == {".parquet"}
    assert len(list((lake_of(fleet) / "_odse" / "ingest-log").iterdir())) == 1


def test_dry_run_lists_and_changes_nothing(fleet: Path):
    result = run_pipeline(fleet / "pipeline.yaml", dry_run=True)
    assert not lake_of(fleet).exists()
    assert {f.action for f in result.plan.files} == {"ingest"}
    assert "would ingest 23 of 23 files" in result.summary()


def test_cli_run_summary_and_exit_code(fleet: Path):
    odse = [sys.executable, "-m", "odse"]
    done = subprocess.run([*odse, "run", str(fleet / "pipeline.yaml"), "-j", "2"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "FLEET-001: 3 ingested, 0 skipped; 864 rows read" in done.stderr
    dry = subprocess.run([*odse, "run", str(fleet / "pipeline.yaml"), "--dry-run"],
                         capture_output=True, text=True, check=False)
    assert dry.returncode == 0
    assert "skip    huawei/FLEET-001/2026-01-01.csv  (unchanged since run" in dry.stdout
    (fleet / "incoming" / "huawei" / "FLEET-005" / "2026-01-09.csv").write_text("nonsense\n")
    bad = subprocess.run([*odse, "run", str(fleet / "pipeline.yaml")], capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 3, bad.stderr
    assert "huawei/FLEET-005/2026-01-09.csv:" in bad.stderr
    assert "ingested 0 of 24 files, skipped 23, 1 failed" in bad.stderr


def test_spec_errors_name_file_line_and_key(tmp_path: Path):
    spec = tmp_path / "p.yaml"
    spec.write_text("odse_pipeline: 1\ninputs:\n  - path: x\n    patern: '{asset_id}.csv'\n"
                    "output: {path: lake}\n")
    with pytest.raises(PipelineError) as info:
        load_pipeline(spec)
    err = info.value
    assert (err.line, err.key_path) == (4, "inputs[0].patern")
    assert "Did you mean 'pattern'?" in str(err)
    spec.write_text("odse_pipeline: 1\ninputs: [{path: .}]\nsources:\n"
                    "  - {match: '*.csv', source: huawai}\noutput: {path: lake}\n")
    with pytest.raises(PipelineError) as info:
        run_pipeline(spec, dry_run=True)
    assert "unknown source 'huawai'" in str(info.value)
    assert info.value.key_path == "sources[0]"
    assert "Did you mean 'huawei'?" in str(info.value)
    spec.write_text("odse_pipeline: 1\ninputs: [{path: .}]\nvalidation: {invalid: quarantine}\n"
                    "output: {path: lake}\n")
    with pytest.raises(PipelineError, match="quarantine needs a rejects table"):
        load_pipeline(spec)


def guide_spec(tmp_path: Path, extra: str) -> Path:
    spec = tmp_path / "p.yaml"
    data = ROOT / "examples" / "data" / "incoming" / "2026-02-09"
    spec.write_text(f"odse_pipeline: 1\ninputs: [{{path: '{data}', "
                    "pattern: 'site_{asset_id}.csv'}]\n"
                    f"sources: [{{match: '*.csv', source: huawei}}]\n{extra}")
    return spec


def test_quarantine_and_rejects_tables(tmp_path: Path):
    import pyarrow.parquet as pq

    spec = guide_spec(tmp_path, "validation: {level: schema, profile: bilateral, "
                                "invalid: quarantine}\n"
                                "output: {path: lake, rejects: rejects}\n")
    result = run_pipeline(spec, jobs=1)
    assert result.exit_code == 0
    (outcome,) = result.outcomes
    assert (outcome.rows_read, outcome.rows_rejected, outcome.invalid) == (264, 1, 263)
    assert outcome.records == 0
    records = pq.read_table(tmp_path / "rejects" / f"{result.run_id}-records.parquet")
    assert records.num_rows == 263
    assert set(records.column("validation_errors").to_pylist()) == {"PROFILE_FIELD_MISSING"}
    assert records.column("source_file").to_pylist()[0].endswith("site_alpha.csv")
    rows = pq.read_table(tmp_path / "rejects" / f"{result.run_id}-rows.parquet").to_pylist()
    assert [(r["line"], r["code"], r["value"]) for r in rows] == [(178, "MISSING_VALUE", "N/A")]
    # the file is in the log (its records went to quarantine): the next run skips it
    assert run_pipeline(spec, jobs=1).outcomes == []


def test_invalid_kept_exits_1_and_settings_change_reingests(tmp_path: Path):
    spec = guide_spec(tmp_path, "validation: {level: schema, profile: bilateral}\n"
                                "output: {path: lake}\n")
    first = run_pipeline(spec, jobs=1)
    assert first.exit_code == 1
    assert "263 invalid (keep)" in first.summary()
    spec.write_text(spec.read_text().replace("profile: bilateral}", "profile: bilateral}\n"
                                             "enrich: {seller_party_id: 'nersa:gen:ALPHA'}"))
    second = run_pipeline(spec, jobs=1)
    assert [o.task.reason for o in second.outcomes] == ["settings changed"]


def test_pattern_placeholders_and_globs():
    from odse.pipeline.discovery import compile_pattern

    pattern = compile_pattern("{vendor}/**/{asset_id}_{date}.csv")
    assert pattern.fullmatch("huawei/a/b/SITE-1_2026-01-01.csv").groupdict() == {
        "vendor": "huawei", "asset_id": "SITE-1", "date": "2026-01-01"}
    assert pattern.fullmatch("huawei/SITE-1_2026-01-01.csv") is not None
    assert pattern.fullmatch("huawei/SITE-1_2026-01-01.json") is None
    with pytest.raises(ValueError, match="appears twice"):
        compile_pattern("{a}/{a}.csv")


def test_uri_inputs_are_listed_like_folders(fleet: Path):
    # a URI prefix goes through pyarrow.fs (as s3:// does); file:// lists the same files
    spec = fleet / "pipeline.yaml"
    uri = spec.read_text().replace("path: incoming",
                                   f"path: {(fleet / 'incoming').as_uri()}")
    (fleet / "uri.yaml").write_text(uri)
    by_path = run_pipeline(spec, dry_run=True).plan.files
    by_uri = run_pipeline(fleet / "uri.yaml", dry_run=True).plan.files
    assert [(f.uri, f.rel, f.asset_id, f.action) for f in by_uri] == \
        [(f.uri, f.rel, f.asset_id, f.action) for f in by_path]



def test_a_pool_that_cannot_start_fails_where_it_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from odse.pipeline import executors

    def cannot(*args: object, **kwargs: object) -> None:
        raise OSError("no processes left")

    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", cannot)
    quiet = executors.ProcessPool(2)
    quiet.start()
    quiet.close()      # runs while another error is on its way: it must not replace it
    used = executors.ProcessPool(2)
    used.start()
    with pytest.raises(OSError, match="no processes left"):
        list(used.imap(str, [1]))


def test_a_spec_that_wrote_the_lake_is_not_checked_again(fleet: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    # the schema check (and its import of jsonschema) is most of a run with nothing new; a
    # spec of the same content that passed it and wrote this lake cannot fail it now
    from odse.pipeline import spec as spec_module

    spec_file = fleet / "pipeline.yaml"
    first = run_pipeline(str(spec_file), jobs=1)
    markers = list((lake_of(fleet) / "_odse" / "checked-specs").iterdir())
    assert [m.name for m in markers] == [f"{load_pipeline(str(spec_file)).check_key}.json"]
    assert json.loads(markers[0].read_text())["pipeline"] == first.spec.name

    checks = []
    original = spec_module.check_against
    monkeypatch.setattr(spec_module, "check_against",
                        lambda *a, **k: checks.append(1) or original(*a, **k))
    again = run_pipeline(str(spec_file), jobs=1)
    assert (checks, len(again.plan.tasks)) == ([], 0)
    # a comment changes nothing; another value is checked, and a bad one still fails
    spec_file.write_text(spec_file.read_text() + "# nightly\n")
    told = []
    load_pipeline(str(spec_file), on_check=lambda: told.append(1))
    assert checks == [] and told == []  # on_check: only when the check is about to run
    spec_file.write_text(spec_file.read_text().replace("odse_pipeline: 1",
                                                       "odse_pipeline: 1\ncolour: blue"))
    with pytest.raises(PipelineError) as caught:
        load_pipeline(str(spec_file), on_check=lambda: told.append(1))
    assert checks == [1] and told == [1] and caught.value.code == "PIPELINE_INVALID"
    assert "colour" in str(caught.value)

    # values JSON has no exact text for are never taken as checked (a date is not its text)
    import datetime as dt

    from odse.pipeline.spec import check_key

    assert check_key({"name": dt.date(2026, 1, 1)}) == ""
    assert check_key({"sites": {101: {}}}) == ""
    assert check_key({"name": "2026-01-01"}) != ""


def test_the_lake_writer_is_told_the_columns_of_each_reader(fleet: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    # one file per reader gives its columns from its header or shape; a file that cannot
    # be read gives none (its own ingest reports it), and the hint is never an error
    from odse.pipeline import executors, runner
    from odse.pipeline.planning import plan

    monkeypatch.setattr(executors, "POOL_MIN_FILES", 0)
    tasks = plan(load_pipeline(str(fleet / "pipeline.yaml"))).tasks
    readers = {(t.source, t.mapping_sha256) for t in tasks}
    assert len(readers) >= 2
    names = runner._expected_columns(tasks).names
    assert {"timestamp", "kWh", "error_type", "asset_id", "kVAr"} <= set(names)
    Path(tasks[0].uri).unlink()
    assert runner._expected_columns(tasks) is not None
    assert runner._expected_columns(tasks[:1]) is None  # one reader: nothing to tell


PANDAS_PROBE = '''
import sys

def probe(_):
    return "pandas" in sys.modules

if __name__ == "__main__":
    from odse import without_pandas
    from odse.pipeline import executors
    if sys.argv[1] == "cli":
        without_pandas.block()
    print(list(executors.ProcessPool(2).imap(probe, [1, 2])))
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux's")
@pytest.mark.parametrize(("script", "how", "expected"), [
    ("odse", "cli", "[False, False]"),          # a process started as the command line
    ("caller.py", "cli", "[True, True]"),       # odse.cli.main() inside a caller's program
    ("caller.py", "library", "[True, True]")])  # run_pipeline from a caller's program
def test_workers_do_without_pandas_only_under_the_command_line(tmp_path: Path, script: str,
                                                               how: str, expected: str):
    # the command line never hands pandas objects to Arrow, in its process or its workers
    # (pyarrow's import of pandas costs the fork server a quarter of a second); a caller's
    # workers may run the caller's code, and the fork server may serve the caller's pools
    pytest.importorskip("pandas")
    path = tmp_path / script
    path.write_text(PANDAS_PROBE)
    done = subprocess.run([sys.executable, str(path), how], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == expected
