"""The published site in a real browser: headless Chromium against a real `verify serve`."""

from __future__ import annotations

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
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        tab = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.errors = errors
        yield tab
        browser.close()


def test_browser_filters_the_index_and_opens_a_claim(server, page):
    page.goto(server + "/")
    rows = page.locator("#matrix tbody tr")
    assert rows.count() == 3
    page.select_option("#f-verdict", "does-not-hold")
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
