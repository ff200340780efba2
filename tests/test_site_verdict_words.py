"""A verdict's qualifier is shown beside its label, and a run outside the claim's scope has its own
symbol and words and counts neither for nor against the claim (index, claim page, feed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from site_project import add_worded_records, make_project

from kg.load import load_corpus
from kg.rows import Run
from verify.publish import sitedata
from verify.publish.build import publish


class _Worded:
    """A run row with the qualifier and scope of its record's verdict (for run rows that do not
    carry them yet); everything else is the row's."""

    def __init__(self, run: Run, verdict: dict) -> None:
        self._run, self.qualifier, self.scope = run, verdict.get("qualifier"), verdict.get("scope")

    def __getattr__(self, name: str):
        return getattr(self._run, name)


def _with_record_words(gather):
    def wrapped(corpus, **kw):
        data = gather(corpus, **kw)
        words = {}
        for r in data.runs:
            words[r.run] = _Worded(r, json.loads((data.root / r.record).read_text())["verdict"])
        data.runs = [words[r.run] for r in data.runs]
        data.latest = {c: {e: words.get(r.run, r) for e, r in per.items()}
                       for c, per in data.latest.items()}  # fmt: skip
        data.runs_by_claim = {c: [words.get(r.run, r) for r in rs]
                              for c, rs in data.runs_by_claim.items()}  # fmt: skip
        return data

    return wrapped


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("words") / "project")
    add_worded_records(project)
    with pytest.MonkeyPatch.context() as mp:
        if "qualifier" not in Run.__dataclass_fields__:  # the graph does not carry them yet
            mp.setattr(sitedata, "gather", _with_record_words(sitedata.gather))
        yield publish(load_corpus(project, use_cache=False), project / "_site").out


def test_index_shows_the_qualifier_here_and_the_outside_run_with_its_own_symbol(site):
    html = (site / "index.html").read_text()
    row = html[html.index('<tr data-category="inference-latency"') :]
    row = row[: row.index("</tr>")]
    here = row[row.index('<td class="here"') : row.index("</td>", row.index('<td class="here"'))]
    assert "✓</span> holds" in here and "the gap is larger than claimed" in here
    assert "◌" in row and "measured outside the claim&#39;s scope" in row


def test_outside_scope_run_counts_neither_for_nor_against(site):
    html = (site / "index.html").read_text()
    tally = html[html.index('id="counts"') : html.index("</p>", html.index('id="counts"'))]
    assert 'data-status="holds"' in tally
    assert 'data-status="does-not-hold"' not in tally and 'data-status="mixed"' not in tally
    assert 'data-status="holds">' in html.split('id="matrix"')[1]


def test_claim_page_conclusion_and_verdicts_name_qualifier_and_scope(site):
    html = (site / "claims" / "fixture-latency.html").read_text()
    assert (
        "Holds (the gap is larger than claimed) on 2-core Example CPU @ 2.0GHz, torch 2.13.0 / TF"
        " 2.21.0 / Keras 3.15.1; measured outside the claim&#39;s scope on H100 80GB HBM3, torch"
        " 2.11.0, which counts neither for nor against it."
    ) in html
    assert "(does not hold there)" in html


def test_feed_entry_shows_the_qualifier_beside_the_label(site):
    feed = (site / "changes.xml").read_text()
    assert "fixture-latency: inconclusive → holds (the gap is larger than claimed) on" in feed
