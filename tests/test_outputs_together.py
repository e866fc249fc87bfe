"""A run's lake and its rejects file land together: a failure injected at either rename
leaves the lake unchanged with the old rejects, or both new; never one of them alone."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from odse.cli import cli
from odse.writers import commit

ROWS = "Time,Energy\n2024-01-01 00:00,1\n2024-01-01 00:05,x\n2024-01-01 00:10,2\n"


def _run(tmp_path: Path, rows: str = ROWS, fmt: str = "parquet") -> tuple[int, str]:
    source = tmp_path / "in.csv"
    source.write_text(rows)
    args = ["transform", "--column-map", "timestamp=Time,kWh=Energy", "-i", str(source),
            "--asset-id", "A", "-f", fmt, "-o", str(tmp_path / "lake"),
            "--rejects", str(tmp_path / "rej.csv")]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


def _lake(tmp_path: Path) -> dict[str, bytes]:
    root = tmp_path / "lake"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def old_state(tmp_path: Path) -> tuple[dict[str, bytes], str]:
    code, output = _run(tmp_path)          # a first run: the lake and its rejects
    assert code == 0, output
    (tmp_path / "rej.csv").write_text("old rejects\n")
    return _lake(tmp_path), "old rejects\n"


NEW = "Time,Energy\n2024-01-01 00:00,5\n2024-01-01 00:05,y\n"


def test_a_failed_rejects_rename_leaves_the_lake_unchanged(tmp_path, old_state,
                                                            monkeypatch) -> None:
    def fail(fs, source, target):
        raise OSError(28, "No space left on device", target)

    monkeypatch.setattr(commit, "_rename", fail)
    code, output = _run(tmp_path, NEW)
    assert code == 3, output
    assert "Error: cannot commit the outputs (" in output and "rej.csv): No space" in output, output
    assert _lake(tmp_path) == old_state[0]
    assert (tmp_path / "rej.csv").read_text() == old_state[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "lake", "rej.csv"]


def test_a_failed_lake_commit_puts_the_old_rejects_back(tmp_path, old_state,
                                                        monkeypatch) -> None:
    def fail(lake, source, target):
        raise OSError(28, "No space left on device", target)

    monkeypatch.setattr(commit, "_move", fail)   # the lake's rename of a partition file
    code, output = _run(tmp_path, NEW)
    assert code == 3, output
    assert "Error: cannot commit partition" in output, output
    assert _lake(tmp_path) == old_state[0]
    assert (tmp_path / "rej.csv").read_text() == old_state[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "lake", "rej.csv"]


def test_both_land_when_nothing_fails(tmp_path, old_state) -> None:
    code, output = _run(tmp_path, NEW)
    assert code == 0, output
    assert "y,NOT_A_NUMBER" in (tmp_path / "rej.csv").read_text()
    assert _lake(tmp_path) != old_state[0]
    (path,) = (tmp_path / "lake").rglob("*.parquet")
    assert pq.read_table(path).column("kWh").to_pylist() == [5.0, 2.0]


def test_once_the_lake_changed_the_new_rejects_stay(tmp_path, monkeypatch) -> None:
    # two partitions, the second one's commit fails: the first is in the lake, so the
    # rejects of this run stay too (each partition commits atomically, the lake's
    # partitions one after another: docs/output.md)
    source = tmp_path / "in.csv"
    source.write_text("Time,Energy\n2024-01-01 00:00,5\n2024-01-01 00:05,y\n")
    args = ["transform", "--column-map", "timestamp=Time,kWh=Energy", "-i", str(source),
            "--asset-id", "A", "-f", "parquet", "--partition-by", "year",
            "-o", str(tmp_path / "lake"), "--rejects", str(tmp_path / "rej.csv")]
    assert CliRunner().invoke(cli, args).exit_code == 0
    (tmp_path / "rej.csv").write_text("old rejects\n")

    def fail(self, branch):
        raise OSError(28, "No space left on device", branch)

    # the merge into year=2024 commits first, the new folder year=2025 after it
    monkeypatch.setattr(commit.Staging, "commit_branch", fail)
    source.write_text("Time,Energy\n2024-01-01 00:00,6\n2025-01-01 00:05,7\n"
                      "2024-01-01 00:10,z\n")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3, result.output
    assert "No space left on device" in result.output, result.output
    assert sorted(p.name for p in (tmp_path / "lake").iterdir()) == ["year=2024"]
    (path,) = (tmp_path / "lake").rglob("*.parquet")
    assert pq.read_table(path).column("kWh").to_pylist() == [6.0]
    assert "z,NOT_A_NUMBER" in (tmp_path / "rej.csv").read_text()


def test_delta_table_and_rejects_land_together(tmp_path, monkeypatch) -> None:
    pytest.importorskip("deltalake")
    from odse.errors import OutputError
    from odse.writers import delta

    code, output = _run(tmp_path, fmt="delta")
    assert code == 0, output
    (tmp_path / "rej.csv").write_text("old rejects\n")
    before = _lake(tmp_path)

    def fail(*args, **kwargs):
        raise OutputError("cannot write the Delta table: injected")

    monkeypatch.setattr(delta, "_write", fail)
    code, output = _run(tmp_path, NEW, fmt="delta")
    assert code == 3 and "injected" in output, output
    assert (tmp_path / "rej.csv").read_text() == "old rejects\n"
    assert _lake(tmp_path) == before
    monkeypatch.undo()

    def no_space(fs, source, target):
        raise OSError(28, "No space left on device", target)

    monkeypatch.setattr(commit, "_rename", no_space)
    code, output = _run(tmp_path, NEW, fmt="delta")
    assert code == 3 and "rej.csv): No space" in output, output
    assert _lake(tmp_path) == before
