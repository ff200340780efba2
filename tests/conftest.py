"""Shared fixtures: a small valid project folder that tests copy and break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the real sources and benchmarks and two fixture claims."""
    claims = tmp_path / "claims"
    claims.mkdir()
    for name in ("sources.ttl", "benchmarks.ttl"):
        shutil.copy(REPO / "claims" / name, claims / name)
    shutil.copy(FIXTURES / "two-claims.ttl", claims / "two-claims.ttl")
    return tmp_path
