"""The published site in a real browser: headless Chromium against a real `verify serve`."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from site_project import make_project

from kg.load import load_corpus
from verify.publish.build import publish

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM}"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`verify serve` in a subprocess on a free port, serving the fixture project's site."""
    project = make_project(tmp_path_factory.mktemp("browser") / "project")
    site = publish(load_corpus(project, use_cache=False), project / "_site").out
    port = _free_port()
    env = {**os.environ, "FWCLAIMS_ROOT": str(project)}
    cmd = [sys.executable, "-m", "verify", "serve", "--site", str(site), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"verify serve exited: {proc.stdout.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("verify serve did not start listening within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser):
    tab = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.errors = errors
    return tab


def test_browser_filters_the_index_and_opens_a_claim(server, page):
    page.goto(server + "/")
    rows = page.locator("#matrix tbody tr")
    assert rows.count() == 3
    page.select_option("#f-verdict", "mixed")
    assert page.locator("#matrix tbody tr:not([hidden])").count() == 1
    assert page.locator("#f-count").inner_text() == "1 of 3 claims"
    page.select_option("#f-verdict", "")
    page.fill("#f-text", "easier to learn")
    assert page.locator("#matrix tbody tr:not([hidden])").count() == 1
    page.fill("#f-text", "")
    page.select_option("#f-kind", "performance")
    page.locator("#matrix tbody tr:not([hidden]) a").first.click()
    page.wait_for_url("**/claims/fixture-latency.html")
    assert "Conclusion:" in page.locator("p.conclusion").inner_text()
    assert page.errors == []


def test_browser_claim_page_has_chart_with_ci_marks(server, page):
    page.goto(server + "/claims/fixture-latency.html")
    # The measured-vs-claimed chart; the exploration's specification curve is a chart of its own.
    chart = page.locator("svg.chart:not(.spec-curve)")
    assert chart.count() == 1 and chart.is_visible()
    assert page.locator("svg.chart.spec-curve").count() == 1
    assert chart.locator("line.ci").count() == 4
    assert chart.locator("title").first.text_content().startswith("Measured vs claimed")
    box = chart.bounding_box()
    assert box and box["width"] >= 300 and box["height"] > 100


def test_browser_claim_page_json_ld_is_a_claim_review(server, page):
    page.goto(server + "/claims/fixture-xss.html")
    text = page.locator('script[type="application/ld+json"]').text_content()
    review = json.loads(text)
    assert review["@type"] == "ClaimReview"
    assert "</script><script>alert(1)</script>" in review["itemReviewed"]["text"]
    assert page.evaluate("() => document.querySelectorAll('script:not([type])').length") == 0
    assert page.errors == []


REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def committed_site(tmp_path_factory) -> Path:
    """The site of the repository's own claims and committed run records, opened from disk."""
    return publish(
        load_corpus(REPO, use_cache=False), tmp_path_factory.mktemp("real") / "_site"
    ).out


@pytest.fixture(scope="module")
def desktop(browser):
    return browser.new_page(viewport={"width": 1280, "height": 800})


CHECKED = ("holds", "does-not-hold", "inconclusive", "not-checkable-here", "mixed", "outside")


def test_browser_index_first_screen_shows_this_machine_for_ten_checked_claims(
    committed_site, desktop
):
    desktop.goto((committed_site / "index.html").as_uri())
    header = desktop.locator("#matrix thead th").nth(1)
    assert "this machine" in header.inner_text().lower()
    boxes = desktop.evaluate(
        """() => Array.from(document.querySelectorAll('#matrix tbody tr')).map(r => {
             const b = r.querySelector('td.here').getBoundingClientRect();
             return [r.dataset.status, b.left, b.right, b.top, b.bottom,
                     r.querySelector('td.here').innerText.trim()];
           })"""
    )
    seen = [b for b in boxes if b[0] in CHECKED and b[1] >= 0 and b[2] <= 1280 and b[4] <= 800]
    assert len(seen) >= 10 and all(text for *_, text in seen)
    # checked claims come first: no unrun or uncheckable claim above the last checked one
    order = [b[0] for b in boxes]
    last_checked = max(i for i, s in enumerate(order) if s in CHECKED)
    assert all(s in CHECKED for s in order[: last_checked + 1])
    assert desktop.evaluate("() => document.documentElement.scrollWidth") <= 1280


def test_browser_index_at_phone_width_every_card_shows_its_verdict_here(committed_site, page):
    page.goto((committed_site / "index.html").as_uri())
    cards = page.locator("#matrix tbody tr")
    assert cards.count() > 50
    out = page.evaluate(
        """() => Array.from(document.querySelectorAll('#matrix tbody tr')).map(r => {
             const here = r.querySelector('td.here'), b = here.getBoundingClientRect();
             return [getComputedStyle(here).display, b.width, b.left, b.right,
                     getComputedStyle(here, '::before').content + here.innerText];
           })"""
    )
    for display, width, left, right, text in out:
        assert display != "none" and width > 0 and left >= 0 and right <= 390
        assert text.startswith('"Here: "') and len(text) > len('"Here: "')
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_browser_status_filter_shows_as_many_claims_as_the_counts_say(committed_site, desktop):
    desktop.goto((committed_site / "index.html").as_uri())
    counts = desktop.evaluate(
        """() => Array.from(document.querySelectorAll('#counts .count')).map(
             c => [c.dataset.status, Number(c.querySelector('b').innerText)])"""
    )
    total = desktop.locator("#matrix tbody tr").count()
    assert len(counts) >= 3 and sum(n for _, n in counts) == total
    for status, n in counts:
        desktop.select_option("#f-verdict", status)
        assert desktop.locator("#matrix tbody tr:not([hidden])").count() == n
        assert desktop.locator("#f-count").inner_text() == f"{n} of {total} claims"
    desktop.select_option("#f-verdict", "")


def test_browser_index_heatmap_has_a_square_per_claim_and_environment(committed_site, desktop):
    desktop.goto((committed_site / "index.html").as_uri())
    panel = desktop.locator("#heatmap-panel")
    box = panel.bounding_box()
    assert box and box["y"] + box["height"] <= 800  # near the top, on the first screen
    claims = desktop.locator("#matrix tbody tr").count()
    envs = desktop.locator("#matrix thead th.env").count()
    squares = desktop.locator("svg.heatmap a.hm-cell")
    assert squares.count() == claims * envs and envs >= 2
    desktop.locator("#heatmap-panel summary").click()
    cells = desktop.evaluate(
        """() => Array.from(document.querySelectorAll('svg.heatmap a.hm-cell')).map(a => {
             const b = a.querySelector('rect').getBoundingClientRect();
             return [a.dataset.claim, a.dataset.environment, b.width, b.height,
                     a.querySelector('title').textContent, a.querySelector('text').textContent,
                     a.getAttribute('href')];
           })"""
    )
    assert len({(c, e) for c, e, *_ in cells}) == claims * envs
    for claim, _, width, height, tip, symbol, href in cells:
        assert width >= 10 and height >= 10 and tip.startswith(claim + ": ") and symbol.strip()
        assert href == f"claims/{claim}.html"
    assert desktop.evaluate("() => document.documentElement.scrollWidth") <= 1280
    first = desktop.locator("svg.heatmap text.hm-env").first.text_content()
    assert first.startswith("This machine: ")
    squares.first.click()
    desktop.wait_for_url(f"**/claims/{cells[0][0]}.html")


def test_browser_index_shows_a_bar_per_category(committed_site, desktop):
    desktop.goto((committed_site / "index.html").as_uri())
    options = desktop.locator("#f-category option").count() - 1  # less "all"
    bars = desktop.locator("#categories tr[data-category-bar] svg.catbar")
    assert bars.count() == options and options >= 5
    assert all(b["width"] > 0 for b in [bars.nth(i).bounding_box() for i in range(options)])


def test_browser_runs_table_at_1280_px_has_one_row_per_run_and_no_wrapped_date(
    committed_site, desktop
):
    claim = committed_site / "claims" / "inference-latency-3x"
    with open(f"{claim}.runs.csv", newline="") as fh:
        runs = {row["run"] for row in csv.DictReader(fh)}
    desktop.goto(Path(f"{claim}.html").as_uri())
    rows = desktop.evaluate(
        """() => Array.from(document.querySelectorAll('table.runs tbody tr')).map(r => {
             const dates = r.querySelectorAll('td.date time');
             return [dates.length, dates.length ? dates[0].getClientRects().length : 0,
                     r.querySelectorAll('svg.spark').length, r.querySelector('td.date').innerText];
           })"""
    )
    assert len(rows) == len(runs) > 5  # one row per run, not one per cell
    for dates, lines, sparks, text in rows:
        assert dates == 1 and lines == 1, f"the date {text!r} wraps"  # one line box: not wrapped
        assert sparks == 1
    right, width = desktop.evaluate(
        """() => [document.querySelector('table.runs').getBoundingClientRect().right,
                  document.documentElement.clientWidth]"""
    )
    assert right <= width  # the whole table is on screen: nothing to scroll sideways to
    assert desktop.evaluate("() => document.documentElement.scrollWidth") <= 1280
