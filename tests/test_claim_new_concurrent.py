"""`verify claim new` run several times at once: every valid claim is kept, every invalid one is
refused, and taking one back never touches another's claim (real processes, a real lock)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kg import api
from kg.load import load_corpus

REPO = Path(__file__).resolve().parent.parent
TRIALS = 3
VALID_PER_TRIAL = 3


def _claim_new(project: Path, claim_id: str, statement: str) -> subprocess.Popen[str]:
    args = ["--id", claim_id, "--statement", statement, "--kind", "qualitative",
            "--category", "usability", "--source", "course-notes-2025", "--locator", "a row",
            "--rests-on", "the author's judgement",
            "--not-checkable", "a judgement; a user study would settle it"]  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "verify", "claim", "new", *args],
        cwd=REPO,
        env={**os.environ, "FWCLAIMS_ROOT": str(project)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_claim_new_in_parallel_keeps_every_valid_claim_and_refuses_the_invalid(project):
    kept: list[str] = []
    for trial in range(TRIALS):
        valid = [f"parallel-{trial}-{i}" for i in range(VALID_PER_TRIAL)]
        procs = {cid: _claim_new(project, cid, f"Claim {cid} is a statement long enough.")
                 for cid in valid}  # fmt: skip
        invalid = f"refused-{trial}"
        procs[invalid] = _claim_new(project, invalid, "Too short.")  # refused after it is written
        results = {cid: (p, *p.communicate(timeout=300)) for cid, p in procs.items()}
        for cid in valid:
            p, out, err = results[cid]
            assert p.returncode == 0 and f"added claim '{cid}'" in out, err
        p, out, err = results[invalid]
        assert p.returncode == 2 and "was not added" in err and "Traceback" not in err
        kept += valid
        text = (project / "claims" / "user-claims.ttl").read_text(encoding="utf-8")
        for cid in kept:
            assert text.count(f"claim:{cid} a fwc:QualitativeClaim") == 1, f"{cid} was lost"
        assert "refused-" not in text
    ids = api.claim_ids(load_corpus(project, use_cache=False))
    assert set(kept) <= set(ids) and not any(i.startswith("refused-") for i in ids)


def test_a_claim_that_is_refused_is_never_seen_by_a_reader(project):
    import time

    from kg.errors import CorpusError

    proc = _claim_new(project, "refused-claim", "Too short.")
    loads, seen = 0, []
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            load_corpus(project, use_cache=False)
        except CorpusError as e:  # the refused claim, or a half-changed file, seen by a reader
            seen.append(str(e))
        loads += 1
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "was not added" in err
    assert loads > 0 and seen == []
    assert not (project / "claims" / "user-claims.ttl").exists()


def test_claim_new_into_a_file_it_cannot_use_exits_2_and_adds_nothing(project):
    from clikit import run_cli, snapshot

    target = project / "claims" / "latin1.ttl"
    target.write_bytes(b"# caf\xe9\n")  # not UTF-8: the corpus is invalid before anything is added
    before = snapshot(project / "claims")
    code, _, err = run_cli(project, "claim", "new", "--id", "x-claim", "--statement",
                           "A statement that is long enough to keep.", "--kind", "qualitative",
                           "--category", "usability", "--source", "course-notes-2025",
                           "--locator", "a row", "--rests-on", "judgement",
                           "--not-checkable", "a user study would settle it",
                           "--file", "latin1")  # fmt: skip
    assert code == 2 and "Traceback" not in err and "latin1.ttl" in err
    assert snapshot(project / "claims") == before
