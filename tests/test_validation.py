"""Broken claim files get one clear line per problem (file:line, claim id, property, fix)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kg.errors import TurtleSyntaxError, ValidationFailed
from kg.load import load_corpus

FILE = "claims/two-claims.ttl"


def _edit(project: Path, old: str, new: str, name: str = "two-claims.ttl") -> None:
    path = project / "claims" / name
    text = path.read_text()
    assert old in text, f"fixture no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1))


def _problems(project: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as e:
        load_corpus(project, use_cache=False)
    return [str(p) for p in e.value.problems]


def _only(project: Path) -> str:
    lines = _problems(project)
    assert len(lines) == 1, lines
    return lines[0]


def _line_of(project: Path, needle: str, name: str = "two-claims.ttl") -> int:
    lines = (project / "claims" / name).read_text().splitlines()
    return next(i + 1 for i, ln in enumerate(lines) if needle in ln)


def test_load_valid_fixture_corpus_has_no_problems(project):
    corpus = load_corpus(project, use_cache=False)
    assert len(corpus.store) > 500


def test_syntax_error_names_file_and_line(project):
    _edit(project, 'fwc:favours "pytorch" ;', 'fwc:favours "pytorch ;')
    with pytest.raises(TurtleSyntaxError) as e:
        load_corpus(project, use_cache=False)
    assert str(e.value).startswith(f"{FILE}:{_line_of(project, 'fwc:favours')}: Turtle syntax:")


def test_undefined_prefix_is_a_syntax_error_with_line(project):
    _edit(project, "fwc:category fwc:Usability ;", "fwc:category cat:Usability ;")
    with pytest.raises(TurtleSyntaxError) as e:
        load_corpus(project, use_cache=False)
    assert f"{FILE}:{_line_of(project, 'cat:Usability')}:" in str(e.value)


def test_syntax_errors_in_two_files_are_both_reported(project):
    _edit(project, 'fwc:favours "pytorch" ;', 'fwc:favours "pytorch ;')
    (project / "claims" / "extra.ttl").write_text("@prefix x: <http://x/> .\nx:a x:b .\n")
    lines = _problems(project)
    assert [ln.split(":")[0] for ln in lines] == ["claims/extra.ttl", FILE]


def test_missing_category_names_claim_property_and_fix(project):
    _edit(project, "    fwc:category fwc:InferenceLatency ;\n", "")
    line = _only(project)
    assert line.startswith(
        f"{FILE}:{_line_of(project, 'claim:fixture-latency a')}: claim 'fixture-latency':"
    )
    assert "fwc:category" in line and "fwc:InferenceLatency" in line


def test_unknown_category_is_rejected_with_allowed_values(project):
    _edit(project, "fwc:category fwc:Usability", "fwc:category fwc:Memory, fwc:Usability")
    assert "needs exactly one category" in _only(project)


def test_missing_statement(project):
    _edit(
        project, '    schema:text "PyTorch is the easier of the two frameworks to learn." ;\n', ""
    )
    line = _only(project)
    assert "claim 'fixture-opinion'" in line and "schema:text" in line


def test_two_statements(project):
    _edit(
        project,
        "    fwc:category fwc:Usability ;",
        '    schema:text "A second statement about learning." ;\n    fwc:category fwc:Usability ;',
    )
    assert "needs one statement" in _only(project)


def test_non_kebab_id(project):
    _edit(project, 'schema:identifier "fixture-opinion"', 'schema:identifier "Fixture_Opinion"')
    lines = _problems(project)
    assert any("kebab-case" in ln for ln in lines)
    assert any("IRI must be claim:Fixture_Opinion" in ln for ln in lines)


def test_same_claim_defined_in_two_files_blames_only_the_newer_file(project):
    shutil.copy(project / "claims" / "two-claims.ttl", project / "claims" / "copy.ttl")
    lines = _problems(project)
    line = _line_of(project, "claim:fixture-latency a")
    assert (
        f"claims/copy.ttl:{line}: claim 'fixture-latency': is already defined in {FILE}:{line}:"
        " keep one definition" in "\n".join(lines)
    )
    assert lines and all(ln.startswith("claims/copy.ttl:") for ln in lines)


def test_an_id_taken_by_a_claim_in_another_file_blames_only_the_file_changed_last(project):
    old = project / "claims" / "two-claims.ttl"
    new = project / "claims" / "new.ttl"
    text = old.read_text()
    start = text.index("claim:fixture-opinion a")
    block = text[start:].replace("claim:fixture-opinion a", "claim:fixture-opinion-2 a", 1)
    new.write_text(text[: text.index("claim:fixture-latency a")] + block)
    os.utime(old, (1_000_000_000, 1_000_000_000))  # the old file was there long before
    lines = [ln for ln in _problems(project) if "ids must be unique" in ln]
    assert len(lines) == 1 and lines[0].startswith("claims/new.ttl:")
    assert f"already used by claim:fixture-opinion ({FILE}:" in lines[0]


def test_same_id_on_two_claims_blames_only_the_later_one(project):
    _edit(project, 'schema:identifier "fixture-opinion"', 'schema:identifier "fixture-latency"')
    lines = [ln for ln in _problems(project) if "ids must be unique" in ln]
    assert lines == [
        f"{FILE}:{_line_of(project, 'claim:fixture-opinion a')}: claim 'fixture-latency': id is"
        f" already used by claim:fixture-latency ({FILE}:{_line_of(project, 'claim:fixture-latency a')}):"
        " ids must be unique; choose another id"
    ]


def test_unknown_benchmark_suggests_closest(project):
    _edit(project, "bench:inference-latency ;", "bench:inference-latncy ;")
    lines = _problems(project)
    hit = [ln for ln in lines if "unknown benchmark 'inference-latncy'" in ln]
    assert hit and "did you mean bench:inference-latency" in hit[0]
    assert hit[0].startswith(f"{FILE}:{_line_of(project, 'bench:inference-latncy')}:")


def test_parameters_not_json(project):
    _edit(project, '"""{"batch_sizes": [1], "input_sizes": [28]}"""', '"""{batch_sizes: [1]}"""')
    line = _only(project)
    assert (
        "fwc:parameters is not valid JSON" in line
        and f":{_line_of(project, 'fwc:parameters')}:" in line
    )


def test_parameters_unknown_name(project):
    _edit(project, '"input_sizes": [28]', '"input_size": [28]')
    line = _only(project)
    assert "'input_size'" in line and "does not take" in line and "input_sizes" in line


def test_performance_claim_without_check(project):
    text = (project / "claims" / "two-claims.ttl").read_text()
    start = text.index("    fwc:checkedBy")
    end = text.index("] ] .", start) + len("] ] .")
    (project / "claims" / "two-claims.ttl").write_text(
        text[:start].rstrip().rstrip(";") + " ." + text[end + 1 :]
    )
    lines = _problems(project)
    assert any("is a performance claim, so it needs a check" in ln for ln in lines)
    assert any("either a check" in ln for ln in lines)


def test_missing_appearance(project):
    text = (project / "claims" / "two-claims.ttl").read_text()
    start = text.index(
        "    schema:appearance [ a fwc:Appearance ;\n        schema:isPartOf src:course-notes-2025"
    )
    end = text.index('"Learning Curve row" ] ;\n') + len('"Learning Curve row" ] ;\n')
    (project / "claims" / "two-claims.ttl").write_text(text[:start] + text[end:])
    assert "needs at least one appearance" in _only(project)


def test_appearance_in_unknown_source(project):
    _edit(project, "schema:isPartOf src:course-notes-2025", "schema:isPartOf src:course-notes-2052")
    lines = _problems(project)
    assert lines and all("claim 'fixture-opinion'" in ln for ln in lines)
    assert any(
        "src:course-notes-2052 is not defined anywhere (did you mean src:course-notes-2025?)" in ln
        for ln in lines
    )


def test_bad_quantifier(project):
    _edit(project, "fwc:quantifier fwc:UpTo", "fwc:quantifier fwc:Roughly")
    line = _only(project)
    assert "fwc:checkedBy / fwc:rule / fwc:quantifier" in line and "fwc:Roughly" in line


def test_threshold_must_be_a_number(project):
    _edit(project, "fwc:threshold 2.0", 'fwc:threshold "2x"')
    assert "positive number fwc:threshold" in _only(project)


def test_tolerance_above_one(project):
    _edit(project, "fwc:tolerance 0.1", "fwc:tolerance 1.5")
    assert "between 0 and 1" in _only(project)


def test_check_and_reason_together(project):
    _edit(
        project,
        '    fwc:favours "pytorch" ;',
        '    fwc:favours "pytorch" ;\n    fwc:notCheckableBecause "it cannot be measured at all here" ;',
    )
    assert "not both and not neither" in _only(project)


def test_nothing_it_rests_on(project):
    _edit(project, '    fwc:restsOn "the author\'s judgement; no study cited" ;\n', "")
    assert "must say what it rests on" in _only(project)


def test_wording_quote_too_long(project):
    _edit(project, 'fwc:wording "lower latency"', 'fwc:wording "' + "a long quotation " * 10 + '"')
    assert "short phrase only" in _only(project)


def test_favours_value_outside_list(project):
    _edit(project, 'fwc:favours "pytorch"', 'fwc:favours "PyTorch"')
    assert "fwc:favours must be one of" in _only(project)


def test_contradicts_unknown_claim(project):
    _edit(
        project,
        "    fwc:category fwc:Usability ;",
        "    fwc:category fwc:Usability ;\n    fwc:contradicts claim:no-such-claim ;",
    )
    assert "fwc:contradicts must name another claim" in _only(project)


def test_invalid_device_in_conditions(project):
    _edit(project, "fwc:device fwc:AnyDevice", "fwc:device fwc:FPGA")
    line = _only(project)
    assert "claim 'fixture-latency'" in line and "fwc:device must be one of" in line


def test_problems_are_sorted_one_per_line(project):
    _edit(project, 'fwc:favours "pytorch"', 'fwc:favours "PyTorch"')
    _edit(project, "fwc:tolerance 0.1", "fwc:tolerance 1.5")
    with pytest.raises(ValidationFailed) as e:
        load_corpus(project, use_cache=False)
    text = str(e.value).splitlines()
    assert text[0] == "2 problems in the claims corpus:"
    assert all(ln.startswith(f"{FILE}:") for ln in text[1:])


def test_invalid_corpus_writes_no_cache(project):
    _edit(project, 'fwc:favours "pytorch"', 'fwc:favours "PyTorch"')
    with pytest.raises(ValidationFailed):
        load_corpus(project)
    assert not (project / ".fwclaims-cache").exists()


def test_cache_is_invalidated_when_a_file_changes(project):
    first = load_corpus(project)
    assert not first.from_cache
    assert load_corpus(project).from_cache
    _edit(project, "is the easier of the two", "is clearly the easier of the two")
    again = load_corpus(project)
    assert not again.from_cache
    assert "clearly" in str(list(again.store.quads_for_pattern(None, None, None, None)))
