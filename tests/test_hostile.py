"""The hostile-input corpus (tests/hostile/cases.yaml), through the CLI and the API.

Each case runs in its own process under a memory limit (``resource.setrlimit``) and a time
limit: a bound that a regression to the old behaviour (a segfault, 9 GB for an alias bomb,
minutes of regex backtracking) trips, not a benchmark. Every case: no traceback, no exit 70,
no signal; the exit code and message the case names; rows accounted for.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).parent / "hostile"
CASES = yaml.safe_load((HERE / "cases.yaml").read_text())
MEMORY_LIMIT = 3 << 30          # bytes of address space per case
TIME_LIMIT = 120                # seconds per case (a few seconds each when the machine is idle)
SUMMARY = re.compile(r"([\d,]+) rows? read, ([\d,]+) records? written.*?, ([\d,]+) rows? rejected"
                     r"(?:.*?([\d,]+) rows? skipped)?")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # loaded by path under its own name: test_spark puts benchmarks/generate.py on the path
    # as "generate" while the suite is collected
    import importlib.util
    spec = importlib.util.spec_from_file_location("hostile_generate", HERE / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    return generate.generate(tmp_path_factory.mktemp("hostile"))


def _bounded(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` in a child process under the memory and time bounds."""
    limit = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
    """)
    return subprocess.run([sys.executable, "-c", limit + code], capture_output=True,
                          text=True, timeout=TIME_LIMIT, cwd=tmp_path, check=False,
                          errors="replace")


def _fill(args: list[str], generated: Path, out: Path) -> list[str]:
    return [str(a).format(files=HERE / "files", gen=generated, out=out) for a in args]


SHOWN_WRONG = ("inf", "-inf", "nan", "-9223372036854775808")
"""Reject values that no input here holds: a number odse made, not the one written."""


def _check_rejects(found: list[dict], case: dict) -> None:
    assert not [r for r in found if r["value"] in SHOWN_WRONG], found
    for want in case.get("rejects", []):
        hits = [r for r in found if r["code"] == want["code"]
                and str(r["value"]).startswith(want["value"])
                and want.get("column", r["column"]) == r["column"]
                and want.get("reason", "") in r["reason"]]
        assert hits, (want, found)
    if "rejects" in case:
        assert len(found) == len(case["rejects"]), found


def _check_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stderr}"
    assert result.returncode != 70, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_cli(case: dict, generated: Path, tmp_path: Path) -> None:
    args = _fill(case["args"], generated, tmp_path)
    # main() returns the exit code (it leaves the interpreter only as the console script)
    result = _bounded(f"import sys\nfrom odse.cli import main\nsys.exit(main({args!r}))\n",
                      tmp_path)
    _check_clean(result)
    assert result.returncode in case["exit"], (result.returncode, result.stderr)
    if "error" in case:
        assert "Error:" in result.stderr and case["error"] in result.stderr, result.stderr
    if result.returncode == 3 and "limit" in case.get("error", ""):
        assert "--limit" in result.stderr, result.stderr  # names the option that raises it
    if case.get("account"):
        found = SUMMARY.search(result.stderr)
        assert found, result.stderr
        read, written, rejected, skipped = (int((g or "0").replace(",", ""))
                                            for g in found.groups())
        assert read == written + rejected + skipped, result.stderr
        if "read" in case:
            assert read == case["read"], result.stderr
    # a reject keeps an excerpt of the raw value, not megabytes
    path = tmp_path / "rej.csv"
    if path.exists():
        text = path.read_text()
        assert max(len(line) for line in text.splitlines()) < 2000
        _check_rejects(list(csv.DictReader(io.StringIO(text))), case)
    else:
        assert "rejects" not in case, "the case names rejects: give it --rejects {out}/rej.csv"


API_CALL = """
import json, sys
import odse
from odse.errors import OdseError
args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {args!r}
try:
    if args["call"] == "check":
        problems = odse.check_mapping(args["spec"])
        print("PROBLEMS", len(problems))
    else:
        kwargs = {{k: v for k, v in args.items() if k not in ("call", "input", "limits")}}
        with odse.limits.override(**args.get("limits", {{}})):
            out = odse.transform(args["input"], **kwargs)
        r = out.report
        print("REJECTS", json.dumps(r.rejects_table.select(["column", "value", "code", "reason"])
                                     .to_pylist()))
        print("OK", r.rows_read, len(out), r.rows_rejected, getattr(r, "rows_skipped", 0))
except OdseError as exc:
    print("ODSE", exc.code)
except BaseException as exc:
    print("OTHER", type(exc).__name__, exc)
"""


def _api_args(args: list[str]) -> dict | None:
    """The API call that does what a CLI case does (None: no API twin)."""
    limits: dict[str, str] = {}
    while args and args[0] == "--limit":
        name, _, value = args[1].partition("=")
        limits[name] = value
        args = args[2:]
    if args[:2] == ["mapping", "check"]:
        return {"call": "check", "spec": args[2]}
    if not args or args[0] != "transform":
        return None
    call: dict = {"call": "transform", "limits": limits}
    options = dict(zip(args[1::2], args[2::2], strict=False))
    call["input"] = options["-i"]
    if "-s" in options:
        call["source"] = options["-s"]
    if "-m" in options:
        call["mapping"] = options["-m"]
    if "--column-map" in options:
        call["column_map"] = options["--column-map"]
    if "--interval-minutes" in options:
        call["interval_minutes"] = options["--interval-minutes"]
    return call


API_CASES = [c for c in CASES if _api_args(list(c["args"])) is not None]


@pytest.mark.parametrize("case", API_CASES, ids=[c["name"] for c in API_CASES])
def test_api(case: dict, generated: Path, tmp_path: Path) -> None:
    call = _api_args(_fill(case["args"], generated, tmp_path))
    result = _bounded(API_CALL.format(args=call), tmp_path)
    _check_clean(result)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert not line.startswith("OTHER"), line
    if line.startswith("OK"):
        read, written, rejected, skipped = (int(v) for v in line.split()[1:])
        if case.get("account"):
            assert read == written + rejected + skipped, line
        if "read" in case:
            assert read == case["read"], line
        found = next(json.loads(out[len("REJECTS "):]) for out in result.stdout.splitlines()
                     if out.startswith("REJECTS "))
        _check_rejects(found, case)
    if case["exit"] == [3] and call["call"] == "transform":
        assert line.startswith("ODSE"), line
    if "code" in case:
        assert line == f"ODSE {case['code']}", line


def test_corpus_size() -> None:
    # the cases are all here: keep the corpus from shrinking by accident
    assert len(CASES) >= 40
    assert json.dumps(CASES)  # plain data
