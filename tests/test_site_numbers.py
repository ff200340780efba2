"""Numbers a reader can trust: an estimate and its interval always in one orientation and rounding
(verify.judge.numbers), on every explanation the site shows for the committed run records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kg.load import load_corpus
from verify.judge.numbers import ratio_text, readable
from verify.publish.sitedata import gather

REPO = Path(__file__).resolve().parent.parent
N = r"(\d+(?:\.\d+)?)"
WORD = r"(faster|slower|less memory|more memory)"
PHRASE = re.compile(rf"{N}x {WORD} (?:than [^()]*?)?\(95% CI ([^)]*)\)")
ONE_SIDED = re.compile(rf"^{N}-{N}x {WORD}$")
STRADDLE = re.compile(rf"^{N}x {WORD} to {N}x {WORD}$")


def _consistent(text: str) -> list[str]:
    """The phrases of `text` whose estimate and interval disagree in orientation or order."""
    bad = []
    for m in PHRASE.finditer(text):
        est, word, ci = float(m[1]), m[2], m[3]
        if one := ONE_SIDED.match(ci):
            if one[3] != word or not float(one[1]) <= est <= float(one[2]):
                bad.append(m[0])
        elif not STRADDLE.match(ci) or word not in (STRADDLE.match(ci)[2], STRADDLE.match(ci)[4]):
            bad.append(m[0])
    return bad


ratios = st.floats(min_value=0.01, max_value=500, allow_nan=False)


@given(ratios, ratios, ratios)
def test_ratio_text_keeps_estimate_and_interval_in_one_orientation(a, b, c):
    low, r, high = sorted((a, b, c))
    text = ratio_text(r, low, high)
    assert PHRASE.fullmatch(text) and _consistent(text) == [], text


def test_ratio_text_reads_as_a_reader_expects():
    assert ratio_text(1 / 1.89, 1 / 2.13, 1 / 1.5) == "1.89x slower (95% CI 1.50-2.13x slower)"
    assert ratio_text(0.98, 0.9, 1.24) == "1.02x slower (95% CI 1.11x slower to 1.24x faster)"
    assert ratio_text(111.7, 87.3, 149.3) == "111.7x faster (95% CI 87.3-149.3x faster)"


def test_readable_orients_an_old_interval_and_capitalises():
    old = "a PyTorch training loop was 1.56x slower than Keras fit at batch 64, 32 px (95% CI 0.59-0.70x), outside"
    assert readable(old) == (
        "A PyTorch training loop was 1.56x slower than Keras fit at batch 64, 32 px"
        " (95% CI 1.43-1.69x slower), outside"
    )
    exact = readable(old, [("batch 64, 32 px", 1 / 1.56, 0.5934, 0.7012)])
    assert "(95% CI 1.43-1.69x slower)" in exact
    assert readable(readable(old)) == readable(old)


@pytest.fixture(scope="module")
def committed():
    return gather(load_corpus(REPO, use_cache=False), documents=False)


def test_no_committed_explanation_shows_an_inverted_estimate_beside_a_plain_interval(committed):
    shown = [committed.explanation(r) for r in committed.runs if r.explanation]
    assert len(shown) >= 20 and sum(bool(PHRASE.search(t)) for t in shown) >= 10
    assert [b for t in shown for b in _consistent(t)] == []
    assert all(t[0].isupper() for t in shown), [t for t in shown if not t[0].isupper()]


def test_committed_explanations_name_sources_not_their_ids(committed):
    shown = " ".join(committed.explanation(r) for r in committed.runs if r.explanation)
    leaked = [
        i for i in committed.sources if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", shown)
    ]
    assert leaked == []


def test_an_interval_that_misses_the_band_never_reads_as_touching_it():
    from verify.judge.numbers import decimals_apart, num

    assert decimals_apart([1.1151, 1.3], [1.1180, 1.375]) == 3
    assert num(1.1151, 3) != num(1.1180, 3) and num(1.1151) == num(1.1180)
    assert decimals_apart([0.9, 1.05], [0.909, 1.1]) == 2
