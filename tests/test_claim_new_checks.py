"""`verify claim new` with several checks: the first from the check options, each further one from
a `--check 'ID --option value ...'` that names what differs; a stand-in per check; the claim is
written only if every check is valid, and read back through kg.api as written."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from clikit import run_cli, snapshot

from kg import api
from kg.checkspec import parse_check
from kg.errors import UsageError
from kg.load import load_corpus

CNN = "the small CNN built here stands in for the models the course has in mind"
XLA = "XLA compiling for this CPU stands in for XLA on the accelerators the course means"
TWO = [
    "claim", "new", "--id", "tf-compiled-beats-eager",
    "--kind", "performance", "--category", "inference-latency", "--favours", "tensorflow",
    "--statement", "At batch size 1 on 28 px images, tf.function and XLA both answer faster"
    " than an eager Keras call.",
    "--source", "course-notes-2025", "--locator", "Comparison table, row 'Performance'",
    "--rests-on", "The course author's description; no measurement is cited.",
    "--device", "cpu", "--phase", "inference", "--benchmark", "inference-latency",
    "--param", "batch_sizes=[1]", "--param", "input_sizes=[28]",
    "--param", 'tiers=["keras-call", "tf-function"]', "--stands-in", CNN,
    "--metric", "median_latency", "--subject", "tf-function", "--baseline", "keras-call",
    "--threshold", "1", "--tolerance", "0.05", "--quantifier", "at-least",
    "--check-id", "tf-function",
    "--check", f'tf-xla --subject tf-xla --param tiers=["keras-call", "tf-xla"] --stands-in {XLA}',
]  # fmt: skip


def _claim(root):
    return api.claim(load_corpus(root, use_cache=False), "tf-compiled-beats-eager")


def test_claim_new_two_checks_with_stand_ins_round_trip_through_the_read_api(project):
    code, out, err = run_cli(project, *TWO)
    assert code == 0, err
    assert "added claim 'tf-compiled-beats-eager' with 2 checks to claims/user-claims.ttl" in out
    claim = _claim(project)
    assert claim.combine == "all"
    first, xla = claim.checks
    assert (first.check_id, first.rule.subject, first.rule.baseline) == (
        "tf-function", "tf-function", "keras-call"
    )  # fmt: skip
    assert (xla.check_id, xla.rule.subject, xla.rule.baseline) == ("tf-xla", "tf-xla", "keras-call")
    assert first.parameters == {"batch_sizes": [1], "input_sizes": [28],
                                "tiers": ["keras-call", "tf-function"]}  # fmt: skip
    assert xla.parameters == {**first.parameters, "tiers": ["keras-call", "tf-xla"]}
    assert (first.stands_in, xla.stands_in) == (CNN, XLA)
    assert xla.rule == dataclasses.replace(first.rule, subject="tf-xla")
    assert run_cli(project, "check")[0] == 0


def test_claim_new_further_check_copies_the_first_checks_stand_in_and_can_drop_a_parameter(
    project,
):
    more = 'tf-xla --subject tf-xla --param tiers=["keras-call","tf-xla"] --param channels=null'
    args = [*TWO[:-2], "--param", "channels=1", "--check", more, "--combine", "any"]
    code, _, err = run_cli(project, *args)
    assert code == 0, err
    claim = _claim(project)
    assert claim.combine == "any"
    first, xla = claim.checks
    assert (first.stands_in, xla.stands_in) == (CNN, CNN)
    assert first.parameters["channels"] == 1 and "channels" not in xla.parameters


def test_claim_new_json_lists_every_check_with_its_stand_in(project):
    code, out, err = run_cli(project, *TWO, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["file"] == "claims/user-claims.ttl" and data["id"] == "tf-compiled-beats-eager"
    assert [(c["check_id"], c["rule"]["subject"], c["stands_in"]) for c in data["checks"]] == [
        ("tf-function", "tf-function", CNN),
        ("tf-xla", "tf-xla", XLA),
    ]
    assert data["combine"] == "all"


def test_claim_new_one_check_is_written_without_a_check_id_as_before(project):
    assert run_cli(project, *TWO[: TWO.index("--check-id")])[0] == 0
    text = (project / "claims" / "user-claims.ttl").read_text()
    assert "fwc:checkId" not in text and "fwc:combine" not in text
    assert f'fwc:standsIn "{CNN}"' in text
    [check] = _claim(project).checks
    assert check.check_id == "main" and check.stands_in == CNN


def _with_check(text: str) -> list[str]:
    return [*TWO[:-1], text]


def _replace(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(flag) + 1] = value
    return out


ONE_CHECK = TWO[: TWO.index("--check-id")]
HEADER = (
    "error: the claim was not added and claims/user-claims.ttl is unchanged."
    " 1 problem in the claims corpus:"
)


def test_claim_new_further_check_that_breaks_a_shape_is_refused_at_its_line(project):
    before = snapshot(project / "claims")
    more = 'tf-xla --subject tf-xla --param tiers=["keras-call","tf-xla"] --stands-in short'
    code, out, err = run_cli(project, *_with_check(more))
    assert code == 2 and out == ""
    header, problem = err.splitlines()
    assert header == HEADER
    written = re.fullmatch(r"claims/user-claims\.ttl:(\d+): claim 'tf-compiled-beats-eager':"
                           r" .*fwc:standsIn sentence \(10 to 300 characters\).*", problem)  # fmt: skip
    assert written and "(found 'short')" in problem, problem
    assert snapshot(project / "claims") == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (_with_check('tf-xla --subject tf-xla --param tiers=["keras-call","tf-xal"]'),
         "--check tf-xla: fwc:parameters: tiers names 'tf-xal', which bench:inference-latency"
         " does not have"),
        (_with_check("tf-xla --subject tf-xla"),
         "--check tf-xla: fwc:parameters: tiers lists 'keras-call', 'tf-function' but the rule"
         " compares 'tf-xla' and 'keras-call'"),
        (_with_check("tf-xla --subject tf-xal"),
         "--check tf-xla: fwc:subject 'tf-xal' is not a tier of bench:inference-latency."
         " Did you mean: tf-xla"),
        (_replace(TWO, "--subject", "torch-eager"),
         "the first check ('tf-function'): fwc:parameters: tiers lists 'keras-call',"
         " 'tf-function' but the rule compares 'torch-eager' and 'keras-call'"),
        (_with_check("tf-xla --benchmark inference-latncy"),
         "--check tf-xla: unknown benchmark 'inference-latncy'. Did you mean: inference-latency"),
        (_with_check("tf-function --subject tf-xla"),
         "--check tf-function: another check of the claim has the id 'tf-function'"),
        (_with_check("tf-xla --subjct tf-xla"),
         "--check tf-xla: --subjct is not a check option. Did you mean: --subject"),
        (_with_check("--subject tf-xla"), "--check '--subject tf-xla': start with the check's id"),
        (_with_check("tf-xla"), "--check tf-xla: it names no option, so it would repeat"),
        (_with_check("tf-xla --threshold fast"), "--check tf-xla: --threshold must be a number"),
        (_with_check("tf-xla --quantifier at-lest"),
         "--check tf-xla: unknown quantifier 'at-lest'. Did you mean: at-least"),
        (_with_check("tf-xla --subject tf-xla --subject tf-function"),
         "--check tf-xla: --subject is given twice"),
        (_with_check("tf-xla --param tiers"), "--check tf-xla: --param 'tiers' is not key=value"),
        (_with_check("tf-xla --subject tf-xla --combine any"),
         "--check tf-xla: --combine is not a check option"),
        ([*ONE_CHECK, "--combine", "any"], "--combine says how several checks make the claim's"),
        ([*TWO, "--combine", "most"], "--combine must be all or any, not 'most'"),
        ([*ONE_CHECK, "--check-id", "Main"], "--check-id 'Main' is not kebab-case"),
    ],
    ids=["unknown-tier", "tiers-not-the-rule's", "subject-not-a-tier", "first-check-tiers",
         "unknown-benchmark", "same-id", "unknown-option", "no-id", "no-option", "not-a-number",
         "unknown-quantifier", "twice", "param-not-key-value", "claim-option-in-a-check",
         "combine-one-check", "combine-unknown", "check-id-case"],
)  # fmt: skip
def test_claim_new_bad_check_option_is_one_error_line_and_writes_nothing(project, args, words):
    before = snapshot(project / "claims")
    code, out, err = run_cli(project, *args)
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: ") and words in line, line
    assert snapshot(project / "claims") == before


def test_claim_new_check_on_a_claim_without_a_check_is_refused(project):
    args = ["claim", "new", "--id", "docs-opinion", "--kind", "qualitative",
            "--category", "usability", "--statement", "The documentation of one is friendlier.",
            "--source", "course-notes-2025", "--locator", "a row", "--rests-on", "a judgement",
            "--not-checkable", "a judgement; a user study would settle it",
            "--check", "other --subject torch"]  # fmt: skip
    code, _, err = run_cli(project, *args)
    assert code == 2
    assert "--check, --check-id and --stands-in describe a claim's checks" in err
    assert not (project / "claims" / "user-claims.ttl").exists()


def test_parse_check_reads_values_with_spaces_json_and_an_empty_stand_in():
    check = parse_check(
        'xla --subject tf-xla --param tiers=["keras-call", "tf-xla"] --threshold=2'
        " --stands-in   --benchmark inference-latency"
    )
    assert check.id == "xla" and check.benchmark == "inference-latency"
    assert check.rule == {"subject": "tf-xla", "threshold": 2.0}
    assert check.parameters == {"tiers": ["keras-call", "tf-xla"]}
    assert check.stands_in == "" and not check.replace_parameters
    assert parse_check("b --params-json {}").replace_parameters
    with pytest.raises(UsageError, match="must be a number, not 'inf'"):
        parse_check("b --tolerance inf")


def test_claim_new_help_explains_several_checks_with_an_example(project):
    code, out, _ = run_cli(project, "claim", "new", "--help")
    assert code == 0
    assert '--check \'tf-xla --subject tf-xla --param tiers=["keras-call", "tf-xla"]\'' in out
    words = " ".join(out.split())
    assert "Each --check adds one more, in one quoted value: its id, then the same options" in words
    assert "--check 'ID --OPTION VALUE ...' A further check (repeatable)" in words
    assert "--stands-in" in words and "--check-id" in words and "--json" in words
