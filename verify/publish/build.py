"""`verify publish`: render the claims site into a static folder.

Pages come from the jinja2 templates in site/templates/ (autoescaped), assets from site/static/,
data only through the read API (see verify.publish.sitedata). Every link is relative, every asset is
shipped, so the folder works from file:// with no network. The same corpus gives the same bytes.

Over a previous site (a folder holding MARKER) a publish updates that site in place
(verify.publish.writer.InPlaceWriter): a claim whose inputs did not change keeps its files, and so
do the pages of unchanged environments and sources and the changes page (see
verify.publish.incremental); of the rest only the files whose bytes change are written, each under
a temporary name renamed over the old file once every page is rendered, so a failed publish leaves
the previous site as it was and a reader never sees half a file. With ``full=True``, or into a
new or empty folder, the site is built in a temporary folder beside the target and swapped in at
the end. Raw records are hard links to data/results/ where the file system allows (records never
change once written). Each claim's Turtle and JSON-LD come from a cache beside the corpus cache
when its inputs did not change (kg.doccache), and so do the run and measurement rows of
unchanged runs (verify.publish.runcsv), the read API's bulk rows, of which only the records added
since the previous publish are queried (kg.rowcache), the rows of the pages that list every claim,
run or flip (verify.publish.fragments), unless ``cache=False``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg import api, doccache, gcpause, paths, rowcache
from kg.errors import RecordError, UsageError
from kg.fsutil import locked
from kg.store import Corpus
from verify.publish import incremental, runcsv, sitedata
from verify.publish.fragments import FOLDER as FRAGMENTS
from verify.publish.fragments import Fragments
from verify.publish.sitedata import STATUS, SiteData, safe_name
from verify.publish.writer import InPlaceWriter, SiteWriter, site_source

__all__ = ["MARKER", "PublishResult", "environment", "publish", "site_source"]

MARKER = ".fwclaims-site"  # a folder holding this file was written by publish and may be replaced
MARKER_TEXT = "fwclaims static site; `verify publish` replaces this folder\n"


@dataclass(frozen=True)
class PublishResult:
    """What a publish wrote."""

    out: Path
    pages: int
    files: int
    claims: int
    seconds: float
    reused: int = 0  # claims whose files came from the previous site unchanged
    canonicalised: int = 0  # claims whose downloads were not in the document cache

    def to_dict(self) -> dict:
        """Plain dict for --json."""
        return {"out": str(self.out), "pages": self.pages, "files": self.files,
                "claims": self.claims, "reused_claims": self.reused,
                "canonicalised_claims": self.canonicalised,
                "seconds": round(self.seconds, 3)}  # fmt: skip


def environment() -> Any:
    """The jinja2 environment: autoescape on, undefined names are errors. Compiled templates are
    not kept between publishes on purpose: jinja2's bytecode cache would run whatever code a file
    in the cache folder holds, where every other cache here is read back as plain data only."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(site_source() / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates do not change during a publish: no stat per page
    )
    env.filters["ratio"] = lambda v: "" if v is None else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")
    env.filters["pct"] = lambda v: "" if v is None else f"{v * 100:.1f}%"
    env.filters["day"] = lambda v: (v or "")[:10]
    env.filters["page"] = safe_name
    env.globals.update(STATUS=STATUS, cell_status=sitedata.cell_status,
                       qualifier=sitedata.run_qualifier, verdict_words=sitedata.verdict_words)  # fmt: skip
    return env


@dataclass
class _Prepared:
    """What both ways of writing a site start from."""

    data: SiteData
    shared: str
    digests: dict[str, str]
    env: Any
    fragments: Fragments


def _prepare(corpus: Corpus, cache: bool) -> _Prepared:
    restored = rowcache.restore(corpus) if cache else None
    data = sitedata.gather(corpus, documents=False)
    if cache:
        rowcache.save(corpus, restored)
    # made where the downloads are written, which may be a helper process (pages.write_all)
    for name in runcsv.TABLES:
        data.makers[name] = lambda name=name: runcsv.download(
            corpus, data, name, use_cache=cache and doccache.records_tell(corpus)
        )
    code = incremental.code_digest()
    shared = incremental.shared_digest(data, corpus.files, code)
    digests = incremental.claim_digests(data, shared, corpus.records_seen())
    folder = paths.cache_dir(corpus.root)
    env = environment()
    fragments = Fragments(folder / FRAGMENTS if cache else None, code)
    return _Prepared(data, shared, digests, env, fragments)


def publish(
    corpus: Corpus, out: Path, *, full: bool = False, skip_invalid_records: bool = False,
    cache: bool = True,
) -> PublishResult:  # fmt: skip
    """Build the site for `corpus` into `out`: over a previous site, updating it in place (its
    files of unchanged claims kept) unless `full`, else replacing it atomically; cached downloads,
    rows and pieces unless not `cache`. Run records that could not be read make it refuse
    (RecordError) unless `skip_invalid_records`, and then the site names them."""
    if corpus.skipped and not skip_invalid_records:
        raise _unreadable(corpus)
    with gcpause.paused():  # rows and pages by the million, long-lived, no garbage (kg.gcpause)
        return _publish(corpus, out, full, cache)


def _publish(corpus: Corpus, out: Path, full: bool, cache: bool) -> PublishResult:
    start = time.perf_counter()
    out = Path(out).absolute()
    _check_target(out)
    if not full and (out / MARKER).is_file():
        with locked(out):
            writer, prep, reuse, fresh = _in_place(corpus, out, cache)
    else:
        writer, prep, fresh = _new_folder(corpus, out, cache)
        reuse = set()
    prep.fragments.save()
    return PublishResult(out, writer.pages, writer.files, len(prep.data.claims),
                         time.perf_counter() - start, len(reuse), len(fresh))  # fmt: skip


def _new_folder(corpus: Corpus, out: Path, cache: bool) -> tuple[SiteWriter, _Prepared, list[str]]:
    """Build the whole site in a temporary folder beside `out`, then swap it in."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    except OSError as e:
        raise UsageError(f"cannot write a site next to {out} ({e}); choose another --out") from e
    try:
        prep = _prepare(corpus, cache)
        data = prep.data
        data.documents, fresh = doccache.claim_documents(corpus, None, use_cache=cache)
        kept = incremental.PageReuse(prep.shared, corpus.records_seen(), prep.digests)
        previous = out if (out / MARKER).is_file() else None  # a site of ours, checked above
        writer = SiteWriter(
            tmp, prep.env, data, kept=kept, fragments=prep.fragments, previous=previous
        )
        writer.build()
        (tmp / MARKER).write_text(MARKER_TEXT)
        (tmp / incremental.MANIFEST).write_text(incremental.manifest_text(prep.digests,
                                                                          kept.digests))  # fmt: skip
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return writer, prep, fresh


def _in_place(
    corpus: Corpus, out: Path, cache: bool
) -> tuple[InPlaceWriter, _Prepared, set[str], list[str]]:
    """Update the previous site at `out`, keeping what did not change (see the writer)."""
    prep = _prepare(corpus, cache)
    data, digests = prep.data, prep.digests
    old = incremental.previous(out)
    kept = incremental.PageReuse(prep.shared, corpus.records_seen(), digests,
                                 incremental.previous(out, "pages"))  # fmt: skip
    writer = InPlaceWriter(out, prep.env, data, reuse=set(), kept=kept, fragments=prep.fragments)
    reuse = {c for c, d in digests.items()
             if old.get(c) == d and incremental.claim_files(c)[0] in writer.existing}  # fmt: skip
    writer.reuse = reuse
    changed = [c for c in data.claims if c not in reuse]
    data.documents, fresh = doccache.claim_documents(
        corpus, changed if reuse else None, use_cache=cache
    )
    try:
        writer.build()
        writer.write(MARKER, MARKER_TEXT, counted=False)
        unchanged = {rel: d for rel, d in kept.digests.items()
                     if kept.previous.get(rel) == d and rel in writer.existing}  # fmt: skip
        writer.commit(
            incremental.manifest_text(digests, kept.digests),
            incremental.manifest_text({c: digests[c] for c in reuse}, unchanged),
        )
    except BaseException:
        writer.abort()
        raise
    return writer, prep, reuse, fresh


def _unreadable(corpus: Corpus) -> RecordError:
    names = ", ".join(r.path for r in api.skipped_records(corpus))
    n = len(corpus.skipped)
    return RecordError(
        f"{n} run record{'s' if n != 1 else ''} cannot be read ({names}), so the site would not"
        " show their runs: fix or delete them (`verify check` says what is wrong), or publish"
        " with --skip-invalid-records to leave them out; the site then names them"
    )


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give --out a folder to write the site into")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out} is not empty and was not written by `verify publish` (no {MARKER} file);"
            " choose another --out or empty it first"
        )


def _swap(new: Path, out: Path) -> None:
    """Put `new` where `out` is; the old site is moved aside first and removed after."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / "site")
    try:
        os.replace(new, out)
    except BaseException:
        if old is not None:
            os.replace(old / "site", out)  # put the previous site back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    os.chmod(out, 0o755)  # mkdtemp made it private; a site is for reading
