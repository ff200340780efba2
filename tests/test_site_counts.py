"""One definition of every count: the index's counts, its status filter and /api/claims?status=
agree on the committed claims and run records."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kg.load import load_corpus
from verify.publish.build import publish
from verify.publish.sitedata import gather
from verify.serve.app import create_app
from verify.serve.limits import Limits

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    corpus = load_corpus(REPO, use_cache=False)
    site = publish(corpus, tmp_path_factory.mktemp("counts") / "_site").out
    return corpus, site


def _index_counts(html: str) -> tuple[dict[str, int], Counter[str], dict[str, int]]:
    """(the counts line, the rows' data-status, the filter options' numbers) of the index."""
    tally = html[html.index('id="counts"') : html.index("</p>", html.index('id="counts"'))]
    box = {
        s: int(n)
        for s, n in re.findall(r'data-status="([a-z-]+)">.*?<b class="num">(\d+)</b>', tally)
    }
    body = html[
        html.index("<tbody>", html.index('id="matrix"')) : html.index(
            "</tbody>", html.index('id="matrix"')
        )
    ]
    rows = Counter(
        re.findall(r'<tr data-category="[^"]*" data-kind="[^"]*" data-status="([a-z-]+)"', body)
    )
    select = html[
        html.index('id="f-verdict"') : html.index("</select>", html.index('id="f-verdict"'))
    ]
    options = {
        s: int(n)
        for s, n in re.findall(r'<option value="([a-z-]+)">[^<]*\((\d+)\)</option>', select)
    }
    return box, rows, options


def test_counts_box_filter_and_api_agree_on_the_committed_data(committed):
    corpus, site = committed
    box, rows, options = _index_counts((site / "index.html").read_text())
    assert box and sum(box.values()) == len(gather(corpus, documents=False).claims)
    assert box == dict(rows) == options
    app = create_app(site, corpus, Limits(workers=1))
    with TestClient(app) as client:
        api = {s: len(client.get(f"/api/claims?status={s}").json()) for s in box}
        every = client.get("/api/claims").json()
    assert api == box
    assert Counter(r["status"] for r in every) == Counter(box)
