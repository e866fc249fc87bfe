"""Run the public-API tests of odse 0.12.0 (from its PyPI sdist) against this checkout.

The sdist is fetched with ``pip download`` into a cache folder under the system temp dir
(once); its six public-API test files are laid out as in the original repository
(``src/python/tests/``, with ``schemas/`` beside ``src/``) and run by pytest in a child
process. The original's tests import the public functions from its submodules
(``odse.transformer``, ``odse.validator``, ``odse.io``, ``odse.regulatory``); a conftest maps
those module names to the top-level ``odse`` API, so the test files run unchanged.

Run by hand: ``python tests/compat/harness.py`` prints one line per test outcome.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

VERSION = "0.12.0"
ROOT = Path(__file__).resolve().parents[2]
EXPECTED_FILE = Path(__file__).with_name("expected_failures.yaml")

# the original's test files that call only its public API (135 tests)
TEST_FILES = (
    "test_batch_validation.py",
    "test_csv_mapper.py",
    "test_enrichment.py",
    "test_io.py",
    "test_regulatory_transform.py",
    "test_transformer_runtime.py",
)

# module name in the original -> public names it held (all exported by odse itself)
ALIASES = {
    "odse.transformer": ["transform", "transform_stream"],
    "odse.validator": ["validate", "validate_file", "validate_batch", "BatchValidationResult",
                       "ValidationResult", "ValidationError", "PROFILES"],
    "odse.io": ["to_json", "to_csv", "to_parquet", "to_dataframe"],
    "odse.regulatory": ["normalize_regulatory_events", "REGULATORY_EVENT_SCHEMA_VERSION"],
}

CONFTEST = '''\
"""Map the original's submodule imports to odse's public API (written by the harness)."""
import sys
import types

import odse

for _name, _attrs in {aliases!r}.items():
    _module = types.ModuleType(_name)
    for _attr in _attrs:
        if hasattr(odse, _attr):
            setattr(_module, _attr, getattr(odse, _attr))
    sys.modules[_name] = _module
'''

REPORTER = '''\
"""Write each test's outcome as JSON lines (written by the harness)."""
import json
import os


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        with open(os.environ["ODSE_COMPAT_OUT"], "a", encoding="utf-8") as handle:
            message = ""
            if report.outcome == "failed":
                message = str(report.longrepr.reprcrash.message if hasattr(report.longrepr,
                              "reprcrash") and report.longrepr.reprcrash else report.longrepr)
            handle.write(json.dumps({{"test": report.nodeid, "when": report.when,
                                     "outcome": report.outcome,
                                     "message": message[:300]}}) + "\\n")


def pytest_collectreport(report):
    if report.failed:
        with open(os.environ["ODSE_COMPAT_OUT"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps({{"test": report.nodeid, "when": "collect",
                                     "outcome": "failed",
                                     "message": str(report.longrepr)[-300:]}}) + "\\n")
'''


class RegistryUnreachable(Exception):
    """pip could not fetch the sdist (no network or no PyPI)."""


def cache_dir() -> Path:
    """Folder that keeps the downloaded sdist between runs."""
    return Path(tempfile.gettempdir()) / f"odse-compat-{VERSION}"


def fetch_sdist(timeout: float = 60.0, retries: int = 1) -> Path:
    """Return the path of odse-0.12.0.tar.gz, downloading it with pip when not cached."""
    folder = cache_dir()
    archive = folder / f"odse-{VERSION}.tar.gz"
    if archive.exists():
        return archive
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder))
    command = [sys.executable, "-m", "pip", "download", f"odse=={VERSION}", "--no-deps",
               "--no-binary", ":all:", "--disable-pip-version-check", "-q", "--timeout", "15",
               "--retries", str(retries), "-d", str(staging)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise RegistryUnreachable(f"pip download timed out after {timeout:.0f} s") from exc
    got = staging / archive.name
    if done.returncode != 0 or not got.exists():
        shutil.rmtree(staging, ignore_errors=True)
        lines = done.stderr.strip().splitlines() or ["no output"]
        last = next((x for x in reversed(lines) if x.startswith("ERROR")), lines[-1])
        raise RegistryUnreachable(f"pip download odse=={VERSION} failed: {last}")
    os.replace(got, archive)
    shutil.rmtree(staging, ignore_errors=True)
    return archive


def lay_out(archive: Path, work: Path) -> Path:
    """Unpack the test files into WORK as in the original repository; return the tests folder."""
    tests = work / "src" / "python" / "tests"
    tests.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        for name in TEST_FILES:
            member = tar.getmember(f"odse-{VERSION}/tests/{name}")
            handle = tar.extractfile(member)
            assert handle is not None
            (tests / name).write_bytes(handle.read())
    # the original's tests read schemas/ from the repository root: ours stand in
    (work / "schemas").symlink_to(ROOT / "schemas", target_is_directory=True)
    (tests / "conftest.py").write_text(CONFTEST.format(aliases=ALIASES), encoding="utf-8")
    (tests / "odse_compat_reporter.py").write_text(REPORTER.format(), encoding="utf-8")
    (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return tests


def run(archive: Path) -> dict[str, dict[str, str]]:
    """Run the original's public-API tests on this checkout; return outcome per test name."""
    with tempfile.TemporaryDirectory(prefix="odse-compat-") as tmp:
        work = Path(tmp)
        tests = lay_out(archive, work)
        out = work / "outcomes.jsonl"
        out.touch()
        env = {**os.environ, "ODSE_COMPAT_OUT": str(out), "PYTHONPATH": str(tests),
               "PYTHONDONTWRITEBYTECODE": "1"}
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "-p", "odse_compat_reporter", "-W", "default", "--continue-on-collection-errors",
             str(tests)],
            cwd=work, env=env, capture_output=True, text=True, check=False, timeout=300,
        )
        outcomes: dict[str, dict[str, str]] = {}
        for line in out.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            name = item["test"].split("src/python/tests/", 1)[-1]
            if name in outcomes and outcomes[name]["outcome"] == "failed":
                continue
            outcomes[name] = item
        return outcomes


def expected_failures() -> dict[str, str]:
    """Test name -> reason, from expected_failures.yaml."""
    data = yaml.safe_load(EXPECTED_FILE.read_text(encoding="utf-8"))
    return {item["test"]: item["reason"] for item in data["expected_failures"]}


def table() -> str:
    """The expected failures as the Markdown table docs/migrating.md shows."""
    lines = ["| test of odse 0.12.0 | why it fails here |", "|---|---|"]
    for name, reason in expected_failures().items():
        lines.append(f"| `{name.split('::')[-1]}` ({name.split('::')[0]}) | {reason} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--table"]:
        print(table(), end="")
        raise SystemExit(0)
    results = run(fetch_sdist())
    for test_name, item in sorted(results.items()):
        print(f"{item['outcome']:8} {test_name}  {item['message'][:160]}")
    counts: dict[str, int] = {}
    for item in results.values():
        counts[item["outcome"]] = counts.get(item["outcome"], 0) + 1
    print(counts)
