"""Ordinary files that used to crash commands: editor lock files, broken links, odd names, run
records that are not records. No traceback from any of them; read commands warn and go on,
`verify check` reports them (exit 2), `verify publish` refuses unless told to skip them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clikit import run_cli
from recordkit import minimal_record

ENV_ID = "x86-2core-cpu-test-abc123"
READ_COMMANDS = [["list"], ["show", "fixture-latency"], ["sources"], ["audit"], ["status"],
                 ["results"], ["export", "--format", "nquads"]]  # fmt: skip


def _results(project: Path) -> Path:
    folder = project / "data" / "results" / ENV_ID
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _record(folder: Path, name: str, **changes: object) -> Path:
    rec = minimal_record(claim_id="fixture-opinion", record_id=name, env_id=ENV_ID)
    rec.update(changes)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(rec))
    return path


def _bad_records(project: Path) -> dict[str, str]:
    """One record of each kind that cannot be read; file name -> words of its problem."""
    folder = _results(project)
    _record(folder, "good")
    (folder / "latin1.json").write_bytes(b'{"schema_version": 2, "note": "caf\xe9"}')
    _record(folder, "verdict-string", verdict="holds")
    _record(folder, "cells-object", cells={"a": 1})
    truncated = _record(folder, "truncated")
    truncated.write_text(truncated.read_text()[:150])
    _record(folder, "future", schema_version=99)
    (folder / "dangling.json").symlink_to(folder / "nowhere.json")
    os.mkfifo(folder / "pipe.json")
    (folder / "folder.json").mkdir()
    return {
        "latin1.json": "not UTF-8 text",
        "verdict-string.json": "verdict: must be object",
        "cells-object.json": "cells: must be array",
        "truncated.json": "not valid JSON",
        "future.json": "upgrade fwclaims",
        "dangling.json": "is a broken link",
        "pipe.json": "is not a regular file",
        "folder.json": "is not a regular file",
    }


@pytest.mark.parametrize("command", [["check"], *READ_COMMANDS])
def test_an_editor_lock_file_in_claims_is_not_read(project, command):
    (project / "claims" / ".#two-claims.ttl").symlink_to("user@host.4242:1700000000")
    code, _, err = run_cli(project, *command)
    assert code == 0, err


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda c: (c / "gone.ttl").symlink_to(c / "nowhere.ttl"), "is a symbolic link to"),
        (lambda c: (c / "folder.ttl").mkdir(), "is a folder, not a Turtle file"),
    ],
)
def test_a_claims_entry_that_is_not_a_file_is_one_problem_line(project, make, words):
    make(project / "claims")
    code, _, err = run_cli(project, "check")
    assert code == 2 and words in err and "Traceback" not in err


def test_a_claims_file_with_a_space_in_its_name_loads_and_is_named(project):
    text = (project / "claims" / "two-claims.ttl").read_text()
    (project / "claims" / "two-claims.ttl").unlink()
    (project / "claims" / "my claims.ttl").write_text(text.replace('"pytorch" ;', '"PyTorch" ;'))
    code, _, err = run_cli(project, "check")
    assert code == 2 and "claims/my claims.ttl:13: claim 'fixture-latency': fwc:favours" in err


def test_check_names_every_unreadable_record_and_exits_2(project):
    expected = _bad_records(project)
    code, out, err = run_cli(project, "check")
    assert code == 2 and out == ""
    lines = [ln for ln in err.splitlines() if "run record" in ln]
    assert len(lines) == len(expected), err
    for name, words in expected.items():
        assert any(f"data/results/{ENV_ID}/{name}" in ln and words in ln for ln in lines), name


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_read_commands_warn_about_each_unreadable_record_and_go_on(project, command):
    expected = _bad_records(project)
    code, _, err = run_cli(project, *command)
    assert code == 0, err
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning: run record left out:")]
    assert len(warnings) == len(expected)
    for name in expected:
        assert any(name in w for w in warnings), name


def test_upgrade_is_advised_only_for_a_newer_schema(project):
    _bad_records(project)
    _, _, err = run_cli(project, "check")
    advising = [ln for ln in err.splitlines() if "upgrade fwclaims" in ln]
    assert len(advising) == 1 and "future.json" in advising[0]


def test_publish_refuses_unreadable_records_unless_told_to_skip_them(project, tmp_path):
    expected = _bad_records(project)
    site = tmp_path / "site"
    code, _, err = run_cli(project, "publish", "--out", str(site))
    assert code == 2 and "--skip-invalid-records" in err and not site.exists()
    code, _, err = run_cli(project, "publish", "--out", str(site), "--skip-invalid-records")
    assert code == 0, err
    method = (site / "method.html").read_text()
    index = (site / "index.html").read_text()
    for name in expected:
        assert f"data/results/{ENV_ID}/{name}" in method and name in index


CLAIM_TEXT = "PyTorch [/] is the [ref] easier [bold]of[/bold] two \x1b]0;owned\x07frameworks \x1b[31mto learn\x1b[0m."


@pytest.mark.parametrize("command", [["list"], ["show", "fixture-opinion"]])
def test_claim_text_is_printed_literally_without_markup_or_escape_sequences(project, command):
    path = project / "claims" / "two-claims.ttl"
    escaped = CLAIM_TEXT.replace("\x1b", "\\u001B").replace("\x07", "\\u0007")
    path.write_text(path.read_text().replace(
        "PyTorch is the easier of the two frameworks to learn.", escaped))  # fmt: skip
    code, out, err = run_cli(project, *command)
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    flat = " ".join(out.split())
    assert "PyTorch [/] is the [ref] easier [bold]of[/bold] two frameworks to learn." in flat


def test_problem_lines_show_control_characters_instead_of_sending_them(project):
    path = project / "claims" / "two-claims.ttl"
    path.write_text(path.read_text().replace(
        '"PyTorch is the easier of the two frameworks to learn."', '"Short \\u001B[31m"'))  # fmt: skip
    code, _, err = run_cli(project, "check")
    assert code == 2 and "\x1b" not in err and "\\x1b[31m" in err


@pytest.mark.parametrize("skipped", [3, [1], [{"path": "x"}], None])
def test_a_damaged_cache_is_rebuilt_not_a_crash(project, skipped):
    code, _, err = run_cli(project, "list")
    assert code == 0, err
    meta_file = project / ".fwclaims-cache" / "corpus.json"
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "skipped": skipped}))  # the right key, bad content
    code, out, err = run_cli(project, "list")
    assert code == 0 and "fixture-latency" in out, err


def test_a_cache_that_is_not_json_or_not_rdf_is_rebuilt(project):
    run_cli(project, "list")
    cache = project / ".fwclaims-cache"
    part = json.loads((cache / "corpus.json").read_text())["parts"][0]
    (cache / part).write_bytes(b"<a> <b> .\n\x00garbage")
    code, out, err = run_cli(project, "list")
    assert code == 0 and "fixture-latency" in out, err
    (cache / "corpus.json").write_bytes(b"\xff[")
    code, out, err = run_cli(project, "list")
    assert code == 0 and "fixture-latency" in out, err
