"""`verify publish` writes a complete, deterministic, offline static site, atomically."""

from __future__ import annotations

import csv
import filecmp
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib
from site_project import CPU_ENV, GPU_ENV, XSS, make_project

from kg.errors import UsageError
from kg.load import load_corpus
from verify.publish import pages, sitedata
from verify.publish.build import MARKER, publish

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("site") / "project")


@pytest.fixture(scope="module")
def corpus(project):
    return load_corpus(project, use_cache=False)


@pytest.fixture(scope="module")
def site(corpus, project) -> Path:
    return publish(corpus, project / "_site").out


def _jsonld(html: str) -> dict:
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(block)


def test_publish_writes_every_page_download_and_record(site):
    for rel in ("index.html", "method.html", "changes.html", "changes.xml", "sources/index.html",
                "environments/index.html", "static/style.css", "static/filter.js", MARKER):  # fmt: skip
        assert (site / rel).is_file(), rel
    for cid in ("fixture-latency", "fixture-opinion", "fixture-xss"):
        for ext in (".html", ".ttl", ".jsonld", ".runs.csv"):
            assert (site / "claims" / f"{cid}{ext}").is_file()
    assert len(list((site / "records").glob("*/*.json"))) == 4  # three runs and the exploration
    assert (site / "environments" / f"{GPU_ENV}.html").is_file()


def test_publish_index_has_matrix_counts_and_filters(site):
    html = (site / "index.html").read_text()
    # environments named by their hardware (the CPU model, not "x86") and versions; the newest
    # run's environment comes first, marked as this machine, with its id only in a tooltip
    cpu = "2-core Example CPU @ 2.0GHz, torch 2.13.0 / TF 2.21.0 / Keras 3.15.1"
    assert cpu in html and "H100 80GB HBM3, torch 2.11.0" in html
    header = html[html.index("<thead>") : html.index("</thead>")]
    here = f'<th scope="col" class="env here" title="H100 80GB HBM3, torch 2.11.0 ({GPU_ENV})">'
    assert header.index(here) < header.index("This machine") < header.index("Example CPU")
    assert 'data-status="mixed"' in html and "data-verdicts" not in html
    for control in ("f-text", "f-category", "f-kind", "f-verdict"):
        assert f'id="{control}"' in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


def test_publish_claim_page_shows_verdicts_rule_runs_and_history(site):
    html = (site / "claims" / "fixture-latency.html").read_text()
    assert "Does not hold in 1 of 2 environments; inconclusive in 1 of 2 environments." in html
    assert "The check ran and the measurement contradicts the claim beyond tolerance." in html
    assert "&#39;Up to 2x&#39; holds if some cell&#39;s 95% CI lies at or above 1.82x" in html
    assert "PyTorch eager vs Keras predict" in html
    assert html.count('href="../records/') == 4  # three runs and the exploration
    assert "↻ changed from holds" in html
    # the exploration: its label and sentence, and a curve with one column per specification
    assert "What the verdict turns on" in html and html.count('class="point') >= 4
    assert 'robustness-fragile">fragile</span> Holds as stated; fragile over 4' in html
    index = (site / "index.html").read_text()
    assert index.count('class="robustness robustness-fragile"') == 1
    # the GPU run says how healthy its card was; the CPU runs say nothing of a GPU
    assert html.count("GPU check: bf16 matrix products at 781 TFLOP/s, 79% of the card") == 1


def test_publish_chart_shows_ci_claimed_line_and_reversal_without_colour(site):
    html = (site / "claims" / "fixture-latency.html").read_text()
    [svg] = re.findall(r"<svg class=\"chart\".*?</svg>", html, re.S)
    assert svg.count('class="ci"') == 4  # newest run per environment: 2 cells each
    assert 'class="claimed"' in svg and 'class="unity"' in svg and 'class="reversed"' in svg
    assert "<title" in svg and "<desc" in svg and "claimed 2x" in svg
    assert "0.50x (0.40–0.60) reversed" in svg
    assert '<circle class="point"' in svg and '<rect class="point"' in svg  # one shape per env


def test_publish_escapes_claim_text_in_html_and_json_ld(site):
    html = (site / "claims" / "fixture-xss.html").read_text()
    assert XSS not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    review = _jsonld(html)  # the script element was not closed early
    assert review["itemReviewed"]["text"].endswith(f"</script>{XSS} & more.")
    assert "<\\/script>" in html
    index = (site / "index.html").read_text()
    assert XSS not in index and "&lt;/script&gt;&lt;script&gt;" in index


def test_publish_json_ld_is_a_claim_review_that_round_trips(site):
    html = (site / "claims" / "fixture-latency.html").read_text()
    review = _jsonld(html)
    assert review["@type"] == "ClaimReview" and review["reviewRating"]["alternateName"] == "mixed"
    g = rdflib.Graph().parse(data=json.dumps(review), format="json-ld")
    sdo = rdflib.Namespace("http://schema.org/")
    claim = rdflib.URIRef("https://w3id.org/fwclaims/claim/fixture-latency")
    assert (None, sdo.itemReviewed, claim) in g and (None, rdflib.RDF.type, sdo.ClaimReview) in g


def test_publish_downloads_parse_and_match_the_runs(site):
    g = rdflib.Graph().parse(site / "claims" / "fixture-latency.ttl", format="turtle")
    j = rdflib.Graph().parse(site / "claims" / "fixture-latency.jsonld", format="json-ld")
    assert len(g) == len(j) > 50
    rows = list(csv.DictReader((site / "claims" / "fixture-latency.runs.csv").open()))
    assert len(rows) == 5 and {r["environment"] for r in rows} == {CPU_ENV, GPU_ENV}


def test_publish_atom_feed_lists_the_flip(site):
    feed = ET.parse(site / "changes.xml").getroot()
    assert feed.tag == f"{ATOM}feed" and feed.find(f"{ATOM}id").text
    assert feed.find(f"{ATOM}updated").text == "2026-11-22T09:00:40Z"
    [entry] = feed.findall(f"{ATOM}entry")
    assert "holds → inconclusive" in entry.find(f"{ATOM}title").text
    assert (
        entry.find(f"{ATOM}id").text.endswith("20261122T090000Z-fixture-latency-11111111")
        and entry.find(f"{ATOM}updated").text
    )


def test_publish_method_page_says_when_calibration_has_not_run(site):
    html = (site / "method.html").read_text()
    assert "Calibration has not been run" in html and "A B B A" in html


def test_publish_method_page_lists_each_benchmarks_declared_multiverse(site):
    # from fwc:multiverse in claims/benchmarks.ttl, not written into the template
    html = (site / "method.html").read_text()
    table = html[html.index('<table class="multiverse">') :]
    table = table[: table.index("</table>")]
    assert "<code>inference-latency</code>" in table and "<code>training-throughput</code>" in table
    assert "torch: torch-eager, torch-compile<br>xla: keras-predict, keras-call" in table
    assert "<code>threads</code> (1 and all physical cores)" in table
    assert "<code>model</code> (small-cnn, resnet)" in table
    assert "batch_sizes × input_sizes" in table and "10 min" in table and "20 min" in table


def test_publish_method_page_shows_saved_calibration(corpus, project, tmp_path):
    report = {"tolerance": 0.1, "overhead": {"per_call_s": 2e-7},
              "simulated": [{"order": "interleaved", "runs": 500, "ci_excludes_one": 0.052,
                             "about_false": 0.01, "about_holds": 0.9, "at_least_false": 0.0,
                             "median_half_width": 0.03}], "runner": []}  # fmt: skip
    folder = project / "data" / "calibration"
    folder.mkdir(parents=True)
    (folder / "cpu.json").write_text(json.dumps(report))
    try:
        html = (publish(corpus, tmp_path / "out").out / "method.html").read_text()
    finally:
        (folder / "cpu.json").unlink()
    assert "5.2%" in html and "interleaved" in html and "200 ns" in html


def _floor_report(env: str, *tiers: tuple[str, float]) -> dict:
    check = {"runs": 17, "excludes_before": 2, "excludes_after": 0, "coverage_before": 0.684,
             "coverage_after": 0.93, "median_floor_sd": 0.1}  # fmt: skip
    rows = [{"module": "verify.benchmarks.latency", "tier": tier,
             "by_class": {"small": {"sd": sd, "within_sd": 0.08, "between_sd": sd, "runs": 17,
                                    "pairs": 51, "leave_one_out": check}}}
            for tier, sd in tiers]  # fmt: skip
    return {"tolerance": 0.1, "simulated": [], "runner": [], "overhead": None,
            "environment_id": env, "floors": rows}  # fmt: skip


def test_floors_in_force_take_each_tier_from_the_newest_report_of_the_newest_environment():
    reports = [
        {**_floor_report("cpu-a", ("torch-eager", 0.1), ("keras-call", 0.2)), "file": "1.json"},
        {**_floor_report("cpu-a", ("keras-call", 0.3)), "file": "2.json"},
        {**_floor_report("cpu-b", ("torch-eager", 0.9)), "file": "3.json"},
        {**_floor_report("cpu-a", ("torch-eager", 0.4)), "file": "4.json"},
        {**_floor_report("cpu-a", ("keras-call", 0.5)), "file": "5.json", "floors": [
            {"module": "verify.benchmarks.latency", "tier": "keras-call", "by_class": {}}]},
        {"kind": "reproduce", "claims": [], "file": "6.json"},
    ]  # fmt: skip
    got = sitedata.floors_in_force(reports)
    assert [(r["tier"], r["file"], r["by_class"]["small"]["sd"]) for r in got] == [
        ("keras-call", "2.json", 0.3), ("torch-eager", "4.json", 0.4)]  # fmt: skip
    assert sitedata.floors_in_force(reports[:3])[0]["file"] == "3.json"  # cpu-b's is newest
    assert sitedata.floors_in_force(reports[5:]) == []


def test_publish_method_page_shows_the_floors_in_force_from_each_tiers_newest_report(
    corpus, project, tmp_path
):
    folder = project / "data" / "calibration"
    folder.mkdir(parents=True, exist_ok=True)
    older, newer = folder / "20261201T000000Z-cpu.json", folder / "20261202T000000Z-cpu.json"
    older.write_text(json.dumps(_floor_report("cpu", ("torch-eager", 0.1234),
                                              ("keras-call", 0.4321))))  # fmt: skip
    newer.write_text(json.dumps(_floor_report("cpu", ("keras-call", 0.2468))))
    try:
        html = (publish(corpus, tmp_path / "out").out / "method.html").read_text()
    finally:
        older.unlink()
        newer.unlink()
    table = html.split('id="floor"', 1)[1].split("</table>", 1)[0]
    rows = {m[0]: m[1] for m in re.findall(r'<th scope="row">([\w-]+)</th><td><code>([^<]*)</code>',
                                           table)}  # fmt: skip
    assert rows == {"torch-eager": "data/calibration/20261201T000000Z-cpu.json",
                    "keras-call": "data/calibration/20261202T000000Z-cpu.json"}  # fmt: skip
    assert "0.123" in table and "0.247" in table and "0.432" not in table  # keras-call's old one
    assert "variance floor" in html and "2 → 0 of 17" in table and "68.4% → 93.0%" in table


def test_publish_is_deterministic(project, site, tmp_path):
    # a second, fresh load: blank nodes get new labels, file order may differ; the bytes may not
    again = publish(load_corpus(project, use_cache=False), tmp_path / "again").out
    files = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(site, again, files, shallow=False)
    assert not mismatch and not errors and len(match) == len(files)


def test_publish_failure_leaves_the_old_site(corpus, tmp_path, monkeypatch):
    out = publish(corpus, tmp_path / "site").out
    before = (out / "index.html").read_text()

    def broken(writer, also=None):
        writer.write("index.html", "half a site")
        raise RuntimeError("disk full")

    monkeypatch.setattr(pages, "write_all", broken)
    with pytest.raises(RuntimeError):
        publish(corpus, out)
    assert (out / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no temporary folder left


def test_full_publish_over_a_site_links_its_unchanged_files_and_writes_the_rest(corpus, tmp_path):
    # removing the replaced site freed 1.7 GB at 10,000 claims: a file whose bytes did not
    # change is the old site's file, linked, so removing the old site frees only what changed
    out = publish(corpus, tmp_path / "site", full=True).out
    page = out / "method.html"
    inode = page.stat().st_ino
    (out / "index.html").write_text("edited by hand")  # differs from what the site renders
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes((out / "changes.xml").read_bytes())
    (out / "changes.xml").unlink()
    (out / "changes.xml").symlink_to(outside)  # same bytes behind a link: never linked
    publish(corpus, out, full=True)
    assert page.stat().st_ino == inode and page.stat().st_nlink == 1  # the old site is gone
    assert "edited by hand" not in (out / "index.html").read_text()
    feed = out / "changes.xml"
    assert not feed.is_symlink() and feed.stat().st_ino != outside.stat().st_ino
    assert feed.read_bytes() == outside.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "site"]


def test_publish_refuses_a_folder_it_did_not_write(corpus, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not written by `verify publish`"):
        publish(corpus, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_publish_claim_page_starts_with_the_answer_then_the_chart(site):
    html = (site / "claims" / "fixture-latency.html").read_text()
    here = html.index('class="here-verdict"')
    assert here < html.index('<svg class="chart"') < html.index("Where it appears")
    assert html.index('<svg class="chart"') < html.index('id="check-h"')
    line = html[here : html.index("</p>", here)]
    assert "This machine" in line and "does not hold" in line and "Keras predict was faster" in line


def test_chart_shows_the_rule_band_and_a_tie_as_a_band_around_1x():
    from verify.publish.charts import ChartRow, ratio_chart

    rows = [ChartRow("env", "b1", 0.8, 0.7, 0.9, 0)]
    kw = {"chart_id": "c", "subject": "A", "baseline": "B", "title": "t", "tolerance": 0.1}
    tie = ratio_chart(rows, claimed=1.0, band=(1 / 1.1, 1.1), tie=True, **kw)
    assert 'class="reversed"' not in tie and 'class="claimed"' not in tie and " reversed" not in tie
    assert "tie: 0.91-1.10x" in tie and tie.count('class="band-edge"') == 2
    claim = ratio_chart(rows, claimed=2.0, band=(2 / 1.1, 2.2), **kw)
    assert 'class="reversed"' in claim and 'class="claimed"' in claim and "claimed 2x" in claim
    assert 'class="band-area"' in claim


def test_site_csv_text_is_what_dictwriter_writes():
    import csv
    import io

    from verify.publish.pages import csv_text

    rows = [{"a": 1, "b": None, "c": "x,y"}, {"a": 2.5, "b": 'q"uote', "c": "line\nbreak"}]
    cases = [(["a", "b", "c"], rows), (["c", "a"], rows), (["b"], rows),
             (["a", "z"], rows), (["a"], []), (["a", "b"], [{"a": 1}, {"a": 2, "b": 3, "d": 4}])]  # fmt: skip
    for columns, found in cases:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(found)
        assert csv_text(columns, found) == buf.getvalue(), columns


def test_a_file_written_in_pieces_is_compared_and_linked_piece_by_piece(tmp_path):
    from verify.publish.writer import SiteWriter, holds

    old = tmp_path / "old"
    old.mkdir()
    (old / "t.csv").write_bytes(b"head\nabcdef\nxyz\n")
    same = [b"head\n", memoryview(b"abcdef\n"), b"xyz\n"]
    assert holds(str(old / "t.csv"), same)
    assert not holds(str(old / "t.csv"), [b"head\n", memoryview(b"abcdeg\n"), b"xyz\n"])
    assert not holds(str(old / "t.csv"), [b"head\n", b"abcdef\n"])  # a prefix is not the file
    assert holds(str(old / "t.csv"), [*same, b""])  # an empty piece changes nothing
    new = tmp_path / "new"
    w = SiteWriter(new, None, None, previous=old)  # type: ignore[arg-type]
    w.write("t.csv", same)
    w.write("u.csv", [b"a", memoryview(b"bc"), b"\n"])
    assert (new / "t.csv").stat().st_ino == (old / "t.csv").stat().st_ino  # linked, not copied
    assert (new / "u.csv").read_bytes() == b"abc\n" and w.files == 2
