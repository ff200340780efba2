"""Shared fixtures: a small valid project folder that tests copy and break, the real claims in a
scratch project, and the committed corpus."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kg.store import Corpus

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


@pytest.fixture
def full_copy(tmp_path: Path) -> Path:
    """The real claims/ folder copied into a scratch project."""
    shutil.copytree(REPO / "claims", tmp_path / "claims")
    return tmp_path


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    """The committed corpus (claims, snapshots, records), loaded once per module; a module that
    reads another corpus defines its own `corpus`."""
    from kg.load import load_corpus

    return load_corpus(REPO)
