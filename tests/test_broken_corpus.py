"""A corpus of broken claim files (tests/fixtures/broken/): each breaks one thing and says, in its
second line, the line and the words `verify check` must report. None may pass, none may crash."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.errors import CorpusError
from kg.load import load_corpus

REPO = Path(__file__).resolve().parent.parent
BROKEN = sorted((Path(__file__).with_name("fixtures") / "broken").glob("*.ttl"))
EXPECT = re.compile(rb"^# expect: (\d+): (.*)$", re.M)


def _expectation(path: Path) -> tuple[int, str]:
    m = EXPECT.search(path.read_bytes())
    assert m, f"{path.name} has no '# expect: LINE: words' line"
    return int(m.group(1)), m.group(2).decode("utf-8", "replace")


def _project(tmp_path: Path, broken: Path) -> Path:
    claims = tmp_path / "claims"
    claims.mkdir()
    for name in ("sources.ttl", "benchmarks.ttl"):
        shutil.copy(REPO / "claims" / name, claims / name)
    shutil.copy(broken, claims / broken.name)
    return tmp_path


def test_broken_corpus_has_at_least_forty_files():
    assert len(BROKEN) >= 40


@pytest.mark.parametrize("broken", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_is_reported_at_its_line_with_the_fix(tmp_path, broken):
    line, words = _expectation(broken)
    project = _project(tmp_path, broken)
    with pytest.raises(CorpusError) as e:
        load_corpus(project, use_cache=False)
    problems = [str(p) for p in e.value.problems]
    here = [p for p in problems if p.startswith(f"claims/{broken.name}:{line}: ")]
    assert any(words in p for p in here), "\n".join(problems)


@pytest.mark.parametrize("name", ["lost-kind", "https-schema-prefix", "no-break-space-indent"])
def test_cli_check_on_a_broken_file_prints_one_line_per_problem_and_exits_2(tmp_path, name):
    broken = next(p for p in BROKEN if p.stem == name)
    line, words = _expectation(broken)
    project = _project(tmp_path, broken)
    out = subprocess.run(
        [sys.executable, "-m", "verify", "check"],
        cwd=REPO,
        env={**os.environ, "FWCLAIMS_ROOT": str(project)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and out.stdout == ""
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith("error: ")
    lines[0] = lines[0].removeprefix("error: ")
    assert any(ln.startswith(f"claims/{name}.ttl:{line}: ") and words in ln for ln in lines)
