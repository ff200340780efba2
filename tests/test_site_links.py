"""Every link in the published site resolves: relative links to files inside the site (and
fragments to ids on the page); external links only to DOI, arXiv or the corpus's source URLs."""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from site_project import make_project

from kg import api
from kg.load import load_corpus
from verify.publish.build import publish

REPO = Path(__file__).resolve().parent.parent
EXTERNAL_HOSTS = {"doi.org", "arxiv.org"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            elif name == "id" and value:
                self.ids.add(value)


def _allowed_external(corpus) -> set[str]:
    urls = {s.url for s in api.sources(corpus) if s.url}
    urls |= {e.url for e in api.evidence(corpus) if e.url}
    return urls


def broken_links(site: Path, allowed: set[str]) -> list[str]:
    """Every link in the site's pages and feed that does not resolve, as 'page: link'."""
    problems = []
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        problems += [f"{page.relative_to(site)}: {link}" for link in parser.links
                     if not _resolves(site, page, link, parser.ids, allowed)]  # fmt: skip
    feed = site / "changes.xml"
    for link in ET.parse(feed).getroot().iter("{http://www.w3.org/2005/Atom}link"):
        if not _resolves(site, feed, link.get("href"), set(), allowed):
            problems.append(f"changes.xml: {link.get('href')}")
    return problems


def _resolves(site: Path, page: Path, link: str, ids: set[str], allowed: set[str]) -> bool:
    parts = urlsplit(link)
    if parts.scheme in ("http", "https"):
        return parts.hostname in EXTERNAL_HOSTS or link in allowed
    if parts.scheme or parts.netloc:
        return False  # javascript:, mailto:, protocol-relative: none belongs in the site
    if not parts.path:
        return parts.fragment in ids
    rel = page.parent.relative_to(site).as_posix()
    target = posixpath.normpath(posixpath.join(rel, unquote(parts.path)))
    return not target.startswith("..") and (site / target).is_file()


@pytest.fixture(scope="module", params=["fixture", "real"])
def published(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"links-{request.param}")
    root = make_project(base / "project") if request.param == "fixture" else REPO
    corpus = load_corpus(root, use_cache=request.param == "real")
    return publish(corpus, base / "_site").out, _allowed_external(corpus)


def test_site_links_all_resolve(published):
    site, allowed = published
    assert len(list(site.rglob("*.html"))) > 10
    assert broken_links(site, allowed) == []


def test_link_checker_catches_a_broken_link(published, tmp_path):
    site, allowed = published
    page = site / "method.html"
    original = page.read_text()
    try:
        page.write_text(
            original
            + '<a href="claims/missing.html">x</a><a href="https://cdn.example.com/x.js">y</a>'
        )
        assert broken_links(site, allowed) == [
            "method.html: claims/missing.html",
            "method.html: https://cdn.example.com/x.js",
        ]
    finally:
        page.write_text(original)
