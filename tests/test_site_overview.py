"""The index's overview: the verdict heat-map (one linked square per claim and environment) and
the per-category status bars, counted by the counts line's one definition (SiteData.status)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from site_project import CPU_ENV, make_project

from kg.load import load_corpus
from verify.publish import overview
from verify.publish.build import publish
from verify.publish.sitedata import gather

REPO = Path(__file__).resolve().parent.parent
OLD = "x86-2core-avx512-cpu-torch2.13.0-tf2.21.0-7b313a"


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    corpus = load_corpus(REPO, use_cache=False)
    site = publish(corpus, tmp_path_factory.mktemp("overview") / "_site").out
    return gather(corpus, documents=False), (site / "index.html").read_text()


def _counts_line(html: str) -> dict[str, int]:
    tally = html[html.index('id="counts"') : html.index("</p>", html.index('id="counts"'))]
    found = re.findall(r'data-status="([a-z-]+)">.*?<b class="num">(\d+)</b>', tally)
    return {s: int(n) for s, n in found}


def test_category_counts_use_the_status_of_the_counts_line(committed):
    data, _ = committed
    per_category = data.category_counts()
    assert len(per_category) >= 5
    total: Counter[str] = Counter()
    for cat, counts in per_category:
        mine = [cid for cid, c in data.claims.items() if c.category == cat]
        assert dict(counts) == dict(Counter(data.status(cid) for cid in mine))
        total.update(dict(counts))
    assert dict(total) == dict(data.status_counts())


def test_status_of_a_claim_with_several_checks_combines_them(committed):
    data, _ = committed
    # tf-graph-speedup's xla check never ran in the older environment, so the claim is open
    # there even though its main check holds
    assert data.latest["tf-graph-speedup"][OLD].verdict == "holds"
    assert data.env_status("tf-graph-speedup", OLD) == "inconclusive"


def test_index_heatmap_has_one_linked_square_per_claim_and_environment(committed):
    data, html = committed
    svg = html[html.index('<svg class="heatmap"') : html.index("</svg>", html.index("heatmap"))]
    squares = re.findall(
        r'<a class="hm-cell" href="claims/([^"]+)\.html" data-claim="([^"]+)" '
        r'data-environment="([^"]+)" data-status="([a-z-]+)"><title>([^<]+)</title>',
        svg,
    )
    assert len(squares) == len(data.claims) * len(data.env_order)
    assert {(c, e) for _, c, e, _, _ in squares} == {
        (c, e) for c in data.claims for e in data.env_order
    }
    for page, cid, env, status, tip in squares:
        assert page == cid and tip.startswith(f"{cid}: ")
        want = data.env_status(cid, env) or ("not-run" if data.claims[cid].checks else "no-check")
        assert status == want
    # this machine's row first, claims in the table's order
    assert squares[0][2] == data.here and [s[1] for s in squares[: len(data.claims)]] == (
        data.informative_order()
    )
    assert "This machine: " + data.environments[data.here].short in svg


def test_index_category_bars_add_up_to_the_counts_line(committed):
    data, html = committed
    section = html[html.index('id="categories"') :]
    bars = re.findall(r'<tr data-category-bar="([^"]+)">(.*?)</tr>', section, re.S)
    assert [b[0] for b in bars] == sorted({c.category for c in data.claims.values()})
    summed: Counter[str] = Counter()
    for _, row in bars:
        segments = re.findall(r'<rect class="hm hm-[a-z-]+" data-status="([a-z-]+)" '
                              r'data-count="(\d+)"', row)  # fmt: skip
        assert segments
        for status, n in segments:
            summed[status] += int(n)
    assert dict(summed) == _counts_line(html)


def test_category_bars_share_one_scale(committed):
    data, _ = committed
    bars = overview.category_bars(data)
    widths = {b.category: int(re.search(r'width="(\d+)"', b.svg)[1]) for b in bars}
    big = max(bars, key=lambda b: b.total)
    unit = widths[big.category] / big.total
    assert widths[big.category] <= overview.BAR_MAX_W and unit <= overview.BAR_UNIT_MAX
    assert all(abs(widths[b.category] - b.total * unit) <= 1 for b in bars)
    assert len({b.total for b in bars}) > 1 and len(set(widths.values())) > 1


def test_overview_escapes_what_records_and_claims_bring(tmp_path):
    project = make_project(tmp_path / "project")
    evil = "<img src=x onerror=alert(1)> & co"
    for f in (project / "data" / "results" / CPU_ENV).glob("*.json"):
        record = json.loads(f.read_text())
        record["environment"]["cpu"]["model"] = evil
        f.write_text(json.dumps(record))
    site = publish(load_corpus(project, use_cache=False), project / "_site").out
    html = (site / "index.html").read_text()
    assert "<img src=x" not in html
    svg = html[html.index('<svg class="heatmap"') : html.index("</svg>", html.index("heatmap"))]
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; co" in svg
