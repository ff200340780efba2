"""The version matrix: venv specs, the cache that reuses them, and (gated) a real run of a claim
under a second TensorFlow version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg import api, paths
from kg.environments import environment_id
from kg.errors import UsageError
from kg.load import load_corpus
from verify.run import matrix, venvs

REPO = Path(__file__).resolve().parent.parent
INSTALLED = {"tensorflow": "2.21.0", "torch": "2.13.0+cpu"}


def test_pin_takes_newest_patch_of_a_minor_and_exact_patch():
    assert venvs.pin("tensorflow-cpu", "2.16") == "tensorflow-cpu==2.16.*"
    assert venvs.pin("torch", "2.13.0") == "torch==2.13.0"
    with pytest.raises(UsageError, match="not a release number"):
        venvs.pin("tensorflow-cpu", "latest")


def test_spec_key_is_stable_and_changes_with_the_requirements():
    a = venvs.VenvSpec.frameworks("2.16", "2.13.0")
    assert a.key() == venvs.VenvSpec.frameworks("2.16", "2.13.0").key()
    assert a.key() != venvs.VenvSpec.frameworks("2.15", "2.13.0").key()
    assert a.key() != venvs.VenvSpec.frameworks("2.16", "2.13.0", ("keras==3.3.3",)).key()
    assert a.requirements == ("psutil", "tensorflow-cpu==2.16.*", "torch==2.13.0")


def test_plan_runs_installed_versions_here_and_others_in_venvs():
    cells = matrix.plan(["2.16", "2.21"], "2.13.0", INSTALLED)
    assert [c.spec is None for c in cells] == [False, True]
    assert all(c.spec is not None for c in matrix.plan(["2.16", "2.21"], "2.13.0", INSTALLED, True))
    with pytest.raises(UsageError):
        matrix.parse_versions("2.16,two")


def test_satisfies_compares_reported_versions_with_the_pins():
    spec = venvs.VenvSpec.frameworks("2.16", "2.13.0")
    good = {"packages": {"tensorflow": "2.16.2", "torch": "2.13.0+cpu"}}
    assert venvs.satisfies(good, spec)
    assert not venvs.satisfies({"packages": {"tensorflow": "2.15.1", "torch": "2.13.0"}}, spec)
    assert not venvs.satisfies({"packages": {"tensorflow": None, "torch": "2.13.0"}}, spec)


def _bare_venv(folder: Path, spec: venvs.VenvSpec, marker: bool) -> Path:
    path = folder / spec.key()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    if marker:
        (path / venvs.MARKER).write_text("{}")
    return path


def test_cache_reuses_a_marked_venv_without_building(tmp_path):
    spec = venvs.VenvSpec(("psutil",))  # no version pins: any working interpreter satisfies it
    path = _bare_venv(tmp_path, spec, marker=True)
    venv = venvs.ensure(tmp_path, spec, REPO)
    assert venv.reused and venv.path == path and not (path / "build.log").exists()
    assert venv.versions["python"] == ".".join(map(str, sys.version_info[:3]))


def test_cache_rejects_unmarked_or_mismatched_venvs(tmp_path):
    spec = venvs.VenvSpec(("psutil",))
    _bare_venv(tmp_path, spec, marker=False)
    assert venvs.cached(tmp_path, spec) is None  # half-built: no marker
    pinned = venvs.VenvSpec(("tensorflow-cpu==2.15.*",))
    _bare_venv(tmp_path, pinned, marker=True)
    assert venvs.cached(tmp_path, pinned) is None  # marked, but it has no TensorFlow 2.15


def test_venv_environment_carries_the_venv_versions_into_the_id():
    env = matrix.venv_environment(
        {"python": "3.11.7", "packages": {"torch": "2.13.0+cpu", "tensorflow": "2.16.2"}}
    )
    assert "-tf2.16.2-" in environment_id(env) and env["packages"]["tensorflow"] == "2.16.2"


def test_matrix_command_refuses_a_claim_without_a_check(project):
    out = subprocess.run(
        [sys.executable, "-m", "verify", "--root", str(project), "matrix", "--claim",
         "fixture-opinion", "--tf", "2.16"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "has no check" in out.stderr


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("FWCLAIMS_MATRIX_TEST") != "1",
    reason="builds a venv with another TensorFlow (~600 MB download); set FWCLAIMS_MATRIX_TEST=1",
)
def test_matrix_runs_the_check_with_the_venv_tensorflow(project):
    corpus = load_corpus(project, use_cache=False)
    check = api.claim_checks(corpus, "fixture-latency")[0]
    cells = matrix.plan(["2.16"], "2.13.0", INSTALLED)
    [row] = matrix.run_matrix(
        check,
        cells,
        cache=paths.cache_dir(REPO),  # shared with `verify matrix`, so a built venv is reused
        project_root=REPO,
        budget=5,
        results_dir=project / "data" / "results",
    )
    assert row["tensorflow"].startswith("2.16.") and "-tf2.16." in row["environment"]
    record = json.loads(Path(row["record"]).read_text())
    # the worker that ran Keras reported the venv's TensorFlow, not this interpreter's
    assert record["frameworks"]["baseline"]["tensorflow"]["version"].startswith("2.16.")
    assert row["verdict"] in ("holds", "does-not-hold", "inconclusive")
    assert row["cells"][0]["ratio"] > 0
