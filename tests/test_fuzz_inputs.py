"""Property: whatever is done to a valid claim file or run record, no command shows a traceback,
`verify check` writes nothing, and a file that no longer holds a valid corpus makes it exit 2
with one `file:line: ...` line per problem. Mutations are drawn by hypothesis."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from clikit import run_cli, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recordkit import minimal_record

REPO = Path(__file__).resolve().parent.parent
FIXTURE = (Path(__file__).with_name("fixtures") / "two-claims.ttl").read_text(encoding="utf-8")
BODY = FIXTURE.split("\n", 1)[1]  # without the comment line, where a change would mean nothing
ENV_ID = "x86-2core-cpu-test-abc123"
PROBLEM = re.compile(r"^(claims|data)/[^:]+(:\d+)?: .+: .+$")
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
# Characters people paste by accident, and text that means something to a terminal or to rich.
ODD = ["\u00a0", "\ufeff", "\u200b", "\u201c", "\u2019", "\x00", "\x1b[31m", "\x07", "[/]",
       '"', "<", ">", ";", ".", "\\", "\udcff"[:0] + "\x85", "{", "}", "\n"]  # fmt: skip
# Complete statements that are wrong wherever they land: inside a block they break the syntax,
# between blocks they add a claim that has no kind, or one that misses everything.
BAD_LINES = [
    "claim:zz-untyped fwc:category fwc:Usability .",
    "claim:zz-empty a fwc:QualitativeClaim .",
    "claim:fixture-opinion fwc:contradicts claim:fixture-opinion .",
    'claim:fixture-latency fwc:favors "pytorch" .',
]
# Values that no property accepts where they are put.
BAD_VALUES = {
    'schema:identifier "fixture-opinion"': ['schema:identifier "Fixture Opinion"',
                                            'schema:identifier "fixture\\u00A0opinion"'],
    "fwc:threshold 2.0": ["fwc:threshold 0", "fwc:threshold -3", "fwc:threshold 1e999",
                          'fwc:threshold "NaN"^^<http://www.w3.org/2001/XMLSchema#double>'],
    "fwc:tolerance 0.1": ["fwc:tolerance 1", "fwc:tolerance -0.5"],
    '"""{"batch_sizes": [1], "input_sizes": [28]}"""': [
        '"""{"batch_sizes": [0], "input_sizes": [28]}"""', '"""{"batch_sizes": 1}"""',
        '"""{"batch_sizes": [1], "input_sizes": [28], "tiers": ["keras-fit"]}"""',
        '"""{"batch_sizes": [1], "input_sizes": [99999]}"""', '"""null"""'],
    'fwc:subject "torch-eager"': ['fwc:subject "keras-fit"', 'fwc:subject ""'],
    "fwc:category fwc:Usability": ["fwc:category fwc:Usabilty", 'fwc:category "usability"'],
    '"PyTorch is the easier of the two frameworks to learn."': ['"\\u001B[31m short"', '"[/]"'],
}  # fmt: skip


def _project(root: Path, claims_text: bytes) -> Path:
    (root / "claims").mkdir()
    for name in ("sources.ttl", "benchmarks.ttl"):
        shutil.copy(REPO / "claims" / name, root / "claims" / name)
    (root / "claims" / "two-claims.ttl").write_bytes(claims_text)
    return root


def _check_reports_problems(root: Path, must_fail: bool) -> None:
    before = snapshot(root)
    code, out, err = run_cli(root, "check")  # a traceback would raise out of run_cli
    assert snapshot(root) == before, "verify check wrote something"
    assert code in (0, 2), err
    if must_fail:
        assert code == 2, "a broken corpus passed verify check"
    if code == 2:
        assert out == "" and err.startswith("error: ")
        lines = err.removeprefix("error: ").rstrip("\n").splitlines()
        problems = lines[1:] if lines[0].endswith("in the claims corpus:") else lines
        assert problems and all(PROBLEM.match(ln) for ln in problems), err
        assert "\x1b" not in err and "\x07" not in err


@st.composite
def breaking_edits(draw: st.DrawFn) -> bytes:
    """The fixture changed in a way that always leaves an invalid corpus."""
    kind = draw(st.sampled_from(["line", "value", "truncate"]))
    if kind == "line":
        lines = BODY.split("\n")
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.sampled_from(BAD_LINES)))
        return "\n".join(lines).encode()
    if kind == "value":
        old = draw(st.sampled_from(sorted(BAD_VALUES)))
        return BODY.replace(old, draw(st.sampled_from(BAD_VALUES[old])), 1).encode()
    data = BODY.encode()
    # cut inside a claim's statement, before the dot that ends it (after it, what is left is valid)
    first, second = data.index(b"claim:fixture-latency a"), data.index(b"claim:fixture-opinion a")
    start, end = draw(st.sampled_from([(first, data.rindex(b".", first, second)),
                                       (second, data.rindex(b"."))]))  # fmt: skip
    return data[: draw(st.integers(start + 1, end))]


@st.composite
def any_edits(draw: st.DrawFn) -> bytes:
    """The fixture with odd characters put in, bytes flipped, lines dropped or doubled."""
    data = bytearray(BODY.encode())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["insert", "flip", "drop", "double"]))
        at = draw(st.integers(0, len(data)))
        if kind == "insert":
            data[at:at] = draw(st.sampled_from(ODD)).encode("utf-8", "surrogatepass")
        elif kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i : i + 1] = [] if kind == "drop" else [lines[i], lines[i]]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


STATEMENT = "PyTorch is the easier of the two frameworks to learn."


@st.composite
def statement_edits(draw: st.DrawFn) -> bytes:
    """The fixture with odd characters, markup and escape sequences in a claim's statement."""
    text = STATEMENT
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(ODD) | st.text(max_size=6))
        text = text[:at] + piece + text[at:]
    return BODY.replace(STATEMENT, text, 1).encode("utf-8", "surrogatepass")


@SETTINGS
@given(text=statement_edits())
def test_anything_in_a_statement_is_printed_literally_or_reported(text):
    with tempfile.TemporaryDirectory() as tmp:
        root = _project(Path(tmp), text)
        _check_reports_problems(root, must_fail=False)
        for command in (["list"], ["show", "fixture-opinion"]):
            code, out, err = run_cli(root, *command)
            assert code in (0, 2), err
            assert "\x1b" not in out and "\x07" not in out and "\x1b" not in err


@SETTINGS
@given(text=breaking_edits())
def test_a_broken_claim_file_is_reported_never_crashes_and_writes_nothing(text):
    with tempfile.TemporaryDirectory() as tmp:
        _check_reports_problems(_project(Path(tmp), text), must_fail=True)


@SETTINGS
@given(text=any_edits())
def test_any_edit_of_a_claim_file_never_crashes_a_command(text):
    with tempfile.TemporaryDirectory() as tmp:
        root = _project(Path(tmp), text)
        _check_reports_problems(root, must_fail=False)
        for command in (["list"], ["show", "fixture-latency"]):
            code, out, err = run_cli(root, *command)
            assert code in (0, 2) and "\x1b" not in out, err


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6,
)  # fmt: skip
FIELDS = ["claim_id", "record_id", "status", "verdict", "started", "environment_id", "cells",
          "check", "environment", "schema_version", "errors", "probe"]  # fmt: skip


@st.composite
def record_edits(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A valid record's file changed: a field given another value, or the bytes cut or flipped;
    with whether the result can no longer be a valid record."""
    data = json.dumps(minimal_record(claim_id="fixture-opinion", record_id="r", env_id=ENV_ID))
    kind = draw(st.sampled_from(["field", "cut", "flip"]))
    if kind == "field":
        rec = json.loads(data)
        rec[draw(st.sampled_from(FIELDS))] = draw(JSON)
        return json.dumps(rec).encode(), False
    raw = bytearray(data.encode())
    if kind == "cut":
        return bytes(raw[: draw(st.integers(0, len(raw) - 1))]), True
    for _ in range(draw(st.integers(1, 4))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw), False


@SETTINGS
@given(edit=record_edits())
def test_any_edit_of_a_run_record_never_crashes_and_never_blocks_the_claims(edit):
    data, broken = edit
    with tempfile.TemporaryDirectory() as tmp:
        root = _project(Path(tmp), FIXTURE.encode())
        folder = root / "data" / "results" / ENV_ID
        folder.mkdir(parents=True)
        (folder / "r.json").write_bytes(data)
        _check_reports_problems(root, must_fail=broken)
        for command in (["list"], ["show", "fixture-opinion"], ["results"], ["status"]):
            code, out, err = run_cli(root, *command)
            assert code == 0, err
            assert "\x1b" not in out and "\x1b" not in err
