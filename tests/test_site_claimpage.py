"""The claim page: every check of a claim with its chart and the combined verdict, the compact runs
table, published numbers by matched pair with the sentence that sets each pair against this
machine, and the ratio against framework version. Pairing, sentences and the deciding cell on
canned rows; the pages from the repository's own claims and committed records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg import api
from kg.load import load_corpus
from kg.model import MAIN_CHECK, Check, CheckType, Combine, Kind, Label, Rule, combine
from kg.rows import Claim, Evidence, Measurement, Run
from verify.judge.explain import CellEstimate
from verify.judge.numbers import significant
from verify.judge.verdicts import deciding_cell
from verify.publish import pages, sitedata
from verify.publish.build import environment
from verify.publish.evidencepairs import oriented_ratio, pair_evidence, sentence
from verify.publish.runstable import LogScale, sparkline

REPO = Path(__file__).resolve().parent.parent


def rule(quantifier: str = "up-to", k: float = 3.0, t: float = 0.1, subject: str = "torch-eager",
         baseline: str = "keras-predict") -> Rule:  # fmt: skip
    return Rule.from_dict({"metric": "median_latency", "better": "lower", "subject": subject,
                           "baseline": baseline, "threshold": k, "tolerance": t,
                           "quantifier": quantifier})  # fmt: skip


def check(check_id: str = MAIN_CHECK, **kw) -> Check:
    return Check("c", Kind.PERFORMANCE, "inference-latency", "verify.benchmarks.latency",
                 CheckType.BENCHMARK, {}, rule(**kw), check_id=check_id)  # fmt: skip


def figure(eid: str, framework: str, value: float, hardware: str = "1 K80", *, date: str = "2017-10-11",
           source: str = "dawnbench-2017", version: str = "1.0") -> Evidence:  # fmt: skip
    return Evidence(id=eid, name=None, description=None, metric="latency per image",
                    value=value, unit="ms", technique="one image at a time", framework=framework,
                    version=version, hardware=hardware, device="gpu", phase="inference",
                    model="ResNet 164", batch="batch 1", input="CIFAR-10", date=date,
                    source=source, url=None, claims=["c"])  # fmt: skip


def measured(ratio: float, low: float, high: float, cell: str = "b1-s28") -> Measurement:
    return Measurement(cell, "median_latency", ratio, low, high, 0.95, None, 3, 30, None, None)


# pairing ---------------------------------------------------------------------------------------


def test_pair_evidence_makes_one_row_per_pair_and_keeps_figures_without_partner_single():
    rows = [
        figure("k80-torch", "torch", 40.0),
        figure("k80-tf", "tensorflow", 20.0),
        figure("cpu-torch", "torch", 300.0, hardware="16 CPU"),  # no TensorFlow figure there
        figure("p100-tf", "tensorflow", 10.0, hardware="P100"),
        figure("p100-torch", "torch", 12.0, hardware="P100"),
        figure("p100-tf-later", "tensorflow", 8.0, hardware="P100", date="2018-02-02"),
    ]
    out = pair_evidence(rows, [check()])
    pairs = [(r.subject.id, r.baseline.id) for r in out if r.baseline]
    singles = [r.subject.id for r in out if r.baseline is None]
    assert pairs == [("k80-torch", "k80-tf"), ("p100-torch", "p100-tf")]  # the earlier TF figure
    assert singles == ["cpu-torch", "p100-tf-later"]
    shown = [e.id for r in out for e in (r.subject, r.baseline) if e]
    assert sorted(shown) == sorted(e.id for e in rows)  # every figure once, none twice


def test_pair_evidence_orients_the_ratio_as_the_claims_check():
    rows = [figure("tf", "tensorflow", 20.0), figure("torch", "torch", 40.0)]
    [torch_first] = pair_evidence(rows, [check()])  # torch-eager vs keras-predict
    assert (torch_first.subject.id, torch_first.baseline.id) == ("torch", "tf")
    assert torch_first.ratio == pytest.approx(0.5)  # times: TensorFlow's 20 ms / PyTorch's 40 ms
    assert torch_first.ratio_words == "TensorFlow 2.00x faster"
    [tf_first] = pair_evidence(rows, [check(subject="tf-function", baseline="torch-eager")])
    assert (tf_first.subject.id, tf_first.ratio) == ("tf", pytest.approx(2.0))


def test_pair_evidence_pairs_a_jax_figure_with_pytorch_and_not_across_sources():
    rows = [figure("jax", "jax", 5.0), figure("torch", "torch", 10.0),
            figure("other-tf", "tensorflow", 7.0, source="another-study")]  # fmt: skip
    out = pair_evidence(rows, [check(subject="jax-jit", baseline="torch-eager")])
    assert [(r.subject.id, r.baseline.id if r.baseline else None) for r in out] == [
        ("jax", "torch"),
        ("other-tf", None),
    ]
    assert out[0].ratio == pytest.approx(2.0)


def test_pair_evidence_writes_figures_at_three_significant_digits():
    rows = [figure("torch", "torch", 97.1834, version="0.1.12"), figure("tf", "tensorflow", 0.035)]
    [row] = pair_evidence(rows, [check()])
    assert row.figures == ["PyTorch 0.1.12: 97.2 ms", "TensorFlow 1.0: 0.0350 ms"]


def test_significant_keeps_three_digits_and_trailing_zeros():
    assert [significant(x) for x in (97.1834, 0.035, 1234.0, 99.96, 2.797, 3.0)] == [
        "97.2", "0.0350", "1230", "100", "2.80", "3.00",
    ]  # fmt: skip


def test_oriented_ratio_puts_the_subject_above_one_when_it_is_better():
    fast, slow = figure("a", "torch", 10.0), figure("b", "tensorflow", 30.0)
    assert oriented_ratio(fast, slow, rule()) == pytest.approx(3.0)  # times: lower is better
    accuracy = Evidence(**{**fast.__dict__, "unit": "%", "value": 90.0})
    other = Evidence(**{**slow.__dict__, "unit": "%", "value": 60.0})
    assert oriented_ratio(accuracy, other, None) == pytest.approx(1.5)  # higher is better


# the sentence ----------------------------------------------------------------------------------


def test_sentence_places_the_published_ratio_against_the_ci_the_band_and_one():
    text = sentence(0.41, rule(), measured(92.9, 74.6, 115.7))
    assert text == (
        "The published ratio, 0.41x, lies below this machine's 95% CI (74.6-115.7x at b1-s28),"
        " below the claim's band (2.73-3.30x) and on the other side of 1 from this machine's"
        " 92.9x."
    )


def test_sentence_says_when_the_published_ratio_agrees_with_the_measurement():
    text = sentence(3.1, rule(), measured(3.0, 2.8, 3.3))
    assert text == (
        "The published ratio, 3.10x, lies inside this machine's 95% CI (2.80-3.30x at b1-s28),"
        " inside the claim's band (2.73-3.30x) and on the same side of 1 as this machine's 3.00x."
    )


def test_sentence_without_a_run_here_relates_the_ratio_to_the_claim_only():
    assert sentence(5.0, rule(), None) == (
        "The published ratio, 5.00x, lies above the claim's band (2.73-3.30x); this machine has"
        " not measured the check yet."
    )


def test_sentence_for_a_direction_claim_names_its_side_of_one():
    direction = rule("at-least", k=1.0, t=0.05, subject="tf-function", baseline="keras-call")
    text = sentence(0.8, direction, measured(1.4, 1.3, 1.5))
    assert text.startswith("The published ratio, 0.80x, lies below this machine's 95% CI")
    assert "against the claim's direction and on the other side of 1 from" in text


# the deciding cell, the combined verdict, the sparkline ---------------------------------------


def test_deciding_cell_is_the_cell_the_verdict_names():
    cells = [CellEstimate("a", 1.5, 1.4, 1.6), CellEstimate("b", 9.0, 8.0, 10.0),
             CellEstimate("c", 4.0, 3.5, 4.5)]  # fmt: skip
    assert deciding_cell(rule("up-to"), cells).label == "b"  # the largest that reaches 3x
    assert deciding_cell(rule("at-least"), cells).label == "a"  # the one short of 3x
    assert deciding_cell(rule("exists"), cells) is None
    assert deciding_cell(rule("up-to"), []) is None


def _run(check_id: str, label: Label, scope: str | None = None) -> Run:
    return Run(f"r-{check_id}", "c", "env", "env", None, "2026-12-01T00:00:00Z", "completed",
               label, None, None, None, None, None, None, None, check_id=check_id, scope=scope)  # fmt: skip


def _claim(how: Combine, *ids: str) -> Claim:
    return Claim("c", "iri", Kind.PERFORMANCE, "x", "t", None, None, None, [], [], {},
                 [check(i) for i in ids], [], how)  # fmt: skip


def test_claim_combined_uses_the_engines_combine_and_leaves_an_unrun_check_open():
    both = {"main": _run("main", Label.HOLDS), "xla": _run("xla", Label.DOES_NOT_HOLD)}
    labels = [Label.HOLDS, Label.DOES_NOT_HOLD]
    assert _claim(Combine.ALL, "main", "xla").combined(both) == (combine(labels), False)
    assert _claim(Combine.ANY, "main", "xla").combined(both) == (Label.HOLDS, False)
    one = {"main": _run("main", Label.HOLDS)}
    assert _claim(Combine.ALL, "main", "xla").combined(one) == (Label.INCONCLUSIVE, False)
    outside = {k: _run(k, Label.HOLDS, "outside") for k in ("main", "xla")}
    assert _claim(Combine.ALL, "main", "xla").combined(outside) == (Label.HOLDS, True)
    assert _claim(Combine.ALL, "main").combined(one) is None  # one check: its run's verdict


def test_sparkline_draws_every_cell_on_the_shared_scale_and_rings_the_deciding_one():
    cells = [measured(92.9, 74.6, 115.7), measured(1.0, 0.9, 1.1, "b8-s224")]
    svg = str(sparkline(cells, rule(), cells[0], LogScale(0.5, 200.0)))
    assert svg.startswith('<svg class="spark"') and svg.count('class="ci"') == 2
    assert svg.count("<circle") == 2 and svg.count('class="point deciding"') == 1
    assert 'class="band-area"' in svg and "b1-s28 92.9x (74.6-115.7x) (deciding)" in svg


# pages from the committed records ----------------------------------------------------------------


class _Pages:
    """Renders pages into a dict instead of a folder (the writer verify.publish.pages expects)."""

    def __init__(self, data: sitedata.SiteData) -> None:
        self.data, self.env, self.out = data, environment(), {}

    def render(self, rel: str, template: str, **ctx) -> None:
        root = "../" * rel.count("/")
        self.out[rel] = self.env.get_template(template).render(root=root, page=rel, **ctx)

    def write(self, rel: str, content: str | bytes) -> None:
        self.out[rel] = content


@pytest.fixture(scope="module")
def committed():
    corpus = load_corpus(REPO, use_cache=False)
    data = sitedata.gather(corpus, documents=False)
    w = _Pages(data)
    for cid in ("tf-graph-speedup", "keras3-multibackend", "inference-latency-3x"):
        pages.claim(w, data, cid, data.status(cid))
    return corpus, data, w.out


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>\n\n", start)]


def test_claim_with_two_checks_shows_both_with_their_rule_verdict_and_chart(committed):
    corpus, data, out = committed
    html = out["claims/tf-graph-speedup.html"]
    checks = _section(html, "check-h")
    assert "How it is checked: 2 checks" in checks
    assert "Check <code>main</code>: tf.function vs a direct Keras call" in checks
    assert "Check <code>xla</code>: tf.function with XLA vs a direct Keras call" in checks
    assert checks.count("The ratio of median latency (baseline / subject") == 2  # each rule
    answer = _section(html, "answer-h")  # each check's verdict here and chart, first
    assert answer.count('<svg class="chart"') == 2
    assert "check main</title>" in answer and "check xla</title>" in answer
    assert answer.count('<p class="check-verdict">') == 2
    # the combined verdict per environment is the engine's combine of each check's newest run
    latest = api.latest_check_runs(corpus, "tf-graph-speedup")[data.here]
    joint = combine([latest[k].verdict for k in ("main", "xla")], Combine.ALL)
    here = answer[answer.index('class="here-verdict"') : answer.index("</p>")]
    assert f'v-{joint.value}"' in here and "2 checks combined: every check must hold" in here


def test_probe_claim_with_a_torch_and_a_jax_check_lists_both(committed):
    _, _, out = committed
    checks = _section(out["claims/keras3-multibackend.html"], "check-h")
    assert "Check <code>torch</code>" in checks and "Check <code>jax</code>" in checks
    assert checks.count("backend=torch") == 1 and checks.count("backend=jax") == 1


def test_runs_table_has_one_row_per_run_with_the_deciding_cell_and_a_sparkline(committed):
    corpus, _, out = committed
    html = out["claims/inference-latency-3x.html"]
    table = html[
        html.index('<table class="runs">') : html.index(
            "</table>", html.index('<table class="runs">')
        )
    ]
    runs = api.runs(corpus, "inference-latency-3x")
    assert table.count("<tr>") == len(runs) + 1  # the header and one row per run
    assert table.count('<svg class="spark"') == len(runs)
    assert table.count('<td class="date">') == len(runs)
    assert "92.9x faster (95% CI 74.6-115.7x faster) <small>at b1-s28</small>" in table
    assert '<ul class="cells">' in table and "<details" in table  # the numbers stay available


def test_published_numbers_show_each_pair_once_with_its_ratio_and_sentence(committed):
    corpus, _, out = committed
    section = _section(out["claims/inference-latency-3x.html"], "evidence-h")
    rows = re.findall(r"<tr( class=\"single\")?><td>", section)
    evidence = api.evidence(corpus, "inference-latency-3x")
    singles = sum(1 for r in rows if r)
    assert (len(rows) - singles) * 2 + singles == len(evidence)  # every figure once
    assert len(rows) - singles == 7 and singles == 1
    assert section.count("The published ratio, ") == 7
    links = re.findall(r'href="(https://[^"]+)" rel="external"[^>]*>data</a>', section)
    assert len(links) == len(set(links)) == len(evidence)


def test_ratio_against_version_has_one_mark_per_environment(committed):
    corpus, data, out = committed
    html = out["claims/inference-latency-3x.html"]
    [svg] = re.findall(r'<svg class="version-plot".*?</svg>', html, re.S)
    envs = {r.environment for r in api.runs(corpus, "inference-latency-3x")}
    assert svg.count('<g class="mark">') == len(envs) and len(envs) >= 5  # 6 in the records now
    for version in ("TF 2.15.1", "TF 2.16.2", "TF 2.21.0"):
        assert f">{version}</text>" in svg
    assert svg.count('class="ci"') == len(envs) and 'class="band-area"' in svg


def test_sparkline_and_version_plot_escape_the_text_they_carry():
    from verify.publish.versionplot import VersionPoint, version_svg

    hostile = "<script>alert(1)</script>"
    spark = str(sparkline([measured(2.0, 1.5, 2.5, hostile)], rule(), None, LogScale(0.5, 5.0)))
    assert hostile not in spark and "&lt;script&gt;" in spark
    points = [VersionPoint("2.15.1", hostile, hostile, 2.0, 1.5, 2.5, 0),
              VersionPoint("2.21.0", "B", "b1-s28", 3.0, 2.5, 3.5, 1)]  # fmt: skip
    svg = str(version_svg(points, check(), "TF", f"title {hostile}", "p"))
    assert hostile not in svg and svg.count("&lt;script&gt;") >= 3
