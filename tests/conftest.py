"""Shared fixtures: paths of the bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real"
EXAMPLES = ROOT / "examples" / "data"
INCOMING = EXAMPLES / "incoming" / "2026-02-09"


@pytest.fixture
def real() -> Path:
    """Folder of the real vendor samples (with their licences)."""
    return REAL


@pytest.fixture
def incoming() -> Path:
    """Folder of the example exports for 2026-02-09."""
    return INCOMING
