"""Source pages say who wrote a source, when and where, and count the claims it gives numbers
for as well as those stated in it or resting on it (on the committed claims)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg import api
from kg.load import load_corpus
from verify.publish.build import publish

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return publish(load_corpus(REPO, use_cache=False), tmp_path_factory.mktemp("src") / "_site").out


def test_source_page_shows_authors_year_and_venue(site):
    html = (site / "sources" / "novac-2022.html").read_text()
    # first author first, as published (bibo:authorList), not sorted
    assert '<p class="citation">O.-C. Novac; M. C. Chirodea; C. M. Novac; N. Bizon;' in html
    assert "O. P. Stan; C. E. Gordan (2022). <cite>Sensors 22(22):8872</cite>." in html


def test_source_authors_keep_their_published_order_and_et_al_last():
    sources = {s.id: s for s in api.sources(load_corpus(REPO))}
    assert sources["ansel-2024-pytorch2"].authors == "Jason Ansel; Edward Yang; Horace He; et al."
    assert sources["becirovic-2025"].authors == "Bećirović; Kurtović; Smajlović; Kapo; Akagić"


def test_a_source_of_published_numbers_counts_the_claims_it_informs(site):
    index = (site / "sources" / "index.html").read_text()
    row = index[index.index('href="dawnbench-2017.html"') :]
    row = row[: row.index("</tr>")]
    assert int(re.search(r'<td class="num">(\d+)</td>', row)[1]) >= 1
    page = (site / "sources" / "dawnbench-2017.html").read_text()
    assert "gives numbers for" in page and "latency per image: 75.3522 ms" in page
