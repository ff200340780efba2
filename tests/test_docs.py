"""The README stays true: every command is documented there and has help, and the transcripts in
its ```console blocks are what the commands print today."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from verify.cli.app import app

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def _commands() -> list[tuple[str, object]]:
    import typer.main

    root = typer.main.get_command(app)
    out = []
    for name, cmd in root.commands.items():
        subs = getattr(cmd, "commands", None)
        if subs:
            out += [(f"{name} {sub}", c) for sub, c in subs.items()]
        else:
            out.append((name, cmd))
    return out


def test_docs_every_command_has_help():
    for name, cmd in _commands():
        assert (cmd.help or "").strip(), f"`verify {name}` has no help text"


def test_docs_every_command_is_in_the_readme():
    missing = [name for name, _ in _commands() if f"verify {name}" not in README]
    assert not missing, f"commands not mentioned in README.md: {missing}"


def test_docs_readme_gives_exactly_two_setup_commands():
    block = re.search(r"## Two commands.*?```sh\n(.*?)```", README, re.S)
    assert block, "README needs a '## Two commands' section with a sh block"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert [ln.split("#")[0].strip() for ln in lines] == ["make run", "make test"]


def test_docs_ci_runs_the_readme_test_command():
    script = (REPO / ".ci" / "run").read_text()
    assert "make test" in [ln.strip() for ln in script.splitlines()]


def _transcripts() -> list[tuple[str, str]]:
    pairs = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            cmd, _, expected = chunk.partition("\n")
            pairs.append((cmd.strip(), expected))
    return pairs


@pytest.mark.parametrize("command,expected", _transcripts())
def test_docs_readme_transcript_matches_real_output(command, expected):
    args = shlex.split(command)
    assert args[0] == "verify"
    env = {**os.environ, "COLUMNS": "100"}
    out = subprocess.run(
        [sys.executable, "-m", "verify", *args[1:]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr

    # which environment is "this machine" depends on the machine the test runs on
    def lines(text: str) -> list[str]:
        return [ln.replace(" (this machine)", "").rstrip() for ln in text.splitlines()]

    real = lines(out.stdout)
    assert real == lines(expected), (
        f"README transcript of `{command}` is out of date; regenerate it"
    )
