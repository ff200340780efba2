"""The benchmark code hash: moving, re-commenting or re-typing code, or deleting code nothing
calls, leaves it as it was; a change to what runs changes it. Legacy (version 1) hashes map to it."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from kg import records
from verify.run import codehash

REPO = Path(__file__).resolve().parent.parent

TIMED = '''
"""A timed benchmark."""
from verify.benchmarks import helpers
from verify.benchmarks.helpers import scale

TIERS = {"a": "numpy"}


def cells(params):
    return [{"label": "x", "n": scale(params["n"])}]


def open_session(tier, cell, params, ctx):
    # a comment
    return helpers.Session(cell["n"])
'''
HELPERS = '''
"""Helpers."""
import importlib

FACTOR = 2


def scale(n: int) -> int:
    """Double it."""
    return n * FACTOR


def unused(x):
    return x + 1


class Session:
    def __init__(self, n):
        self.n = n

    def time(self, calls):
        return sum(range(self.n)) / calls


def backend():
    return importlib.import_module("verify.benchmarks.backend")
'''
BACKEND = """
def build():
    return 1
"""


def _package(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "verify" / "benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    base = {"timed": TIMED, "helpers": HELPERS, "backend": BACKEND}
    for name, text in {**base, **files}.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(text))
    codehash._parse.cache_clear()
    return folder


def _hash(folder: Path) -> str:
    codehash._parse.cache_clear()
    return codehash.code_hash("verify.benchmarks.timed", folder)


def test_codehash_ignores_comments_docstrings_annotations_and_unused_code(tmp_path):
    folder = _package(tmp_path)
    before = _hash(folder)
    edited = HELPERS.replace('"""Double it."""', '"""Twice n, as the cells need."""')
    edited = edited.replace("def scale(n: int) -> int:", "def scale(n):  # re-typed")
    edited = edited.replace("def unused(x):\n    return x + 1\n", "")
    _package(tmp_path, helpers=edited, timed=TIMED.replace("# a comment", "# another"))
    assert _hash(folder) == before


def test_codehash_is_the_same_when_a_function_moves_to_another_module(tmp_path):
    folder = _package(tmp_path)
    before = _hash(folder)
    scale = 'def scale(n: int) -> int:\n    """Double it."""\n    return n * FACTOR\n'
    helpers = HELPERS.replace(scale, "")
    moved = "from verify.benchmarks.helpers import FACTOR\n\n\n" + scale
    timed = TIMED.replace("from verify.benchmarks.helpers import scale",
                          "from verify.benchmarks.scaling import scale")  # fmt: skip
    _package(tmp_path, helpers=helpers, scaling=moved, timed=timed)
    assert _hash(folder) == before


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("helpers", "FACTOR = 2", "FACTOR = 3"),  # a constant the timed path uses
        ("helpers", "sum(range(self.n))", "sum(range(2 * self.n))"),  # what is timed
        ("timed", '"label": "x"', '"label": "y"'),  # the benchmark module itself
    ],
)
def test_codehash_changes_when_what_runs_changes(tmp_path, module, old, new):
    folder = _package(tmp_path)
    before = _hash(folder)
    text = {"helpers": HELPERS, "timed": TIMED}[module]
    _package(tmp_path, **{module: text.replace(old, new)})
    assert _hash(folder) != before


def test_codehash_follows_modules_loaded_by_name(tmp_path):
    timed = TIMED.replace("return helpers.Session(cell[\"n\"])",
                          "helpers.backend()\n    return helpers.Session(cell[\"n\"])")  # fmt: skip
    folder = _package(tmp_path, timed=timed)
    before = _hash(folder)
    _package(tmp_path, timed=timed, backend=BACKEND.replace("return 1", "return 2"))
    assert _hash(folder) != before


def test_codehash_of_the_real_benchmarks_covers_their_framework_back_ends():
    codehash._parse.cache_clear()
    folder = REPO / "verify" / "benchmarks"
    names = {
        t.split("\0")[0] for t in codehash._Sources(folder).closure("verify.benchmarks.latency")
    }
    assert {"open_session", "build", "configure", "init_weights"} <= names  # torch and Keras models


def _history_has(commit: str) -> bool:
    found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
                           capture_output=True)  # fmt: skip
    return found.returncode == 0


def test_codehash_legacy_table_is_what_the_history_gives():
    table = json.loads(records.LEGACY_HASHES.read_text())["hashes"]
    commits = {key.split(":", 1)[0] for key in table}
    if not all(_history_has(c) for c in commits):
        pytest.skip("the git history of the committed records is not in this clone")
    import legacy_hashes

    assert legacy_hashes.table() == table
