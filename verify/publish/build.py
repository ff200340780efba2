"""`verify publish`: render the claims site into a static folder.

Pages come from the jinja2 templates in site/templates/ (autoescaped), assets from site/static/,
data only through the read API (see verify.publish.sitedata). Every link is relative, every asset is
shipped, so the folder works from file:// with no network. The same corpus gives the same bytes.
The site is built in a temporary folder beside the target and swapped in at the end, so a failed
publish leaves the previous site as it was. A claim whose inputs did not change since the previous
site keeps that site's files (linked, not rendered again; see verify.publish.incremental);
``full=True`` renders everything. Raw records are hard links to data/results/ where the file
system allows (records never change once written). Each claim's Turtle and JSON-LD come from a
cache beside the corpus cache when its inputs did not change (kg.doccache), and so do the
measurement rows of unchanged runs (verify.publish.runcsv) and the read API's bulk rows, of which
only the records added since the previous publish are queried (kg.rowcache), unless
``cache=False``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kg import api, doccache, rowcache
from kg.errors import RecordError, UsageError
from kg.paths import PACKAGE_ROOT
from kg.store import Corpus
from verify.publish import claimpage, incremental, pages, runcsv, sitedata
from verify.publish.sitedata import STATUS, SiteData, safe_name

MARKER = ".fwclaims-site"  # a folder holding this file was written by publish and may be replaced


def site_source() -> Path:
    """The folder with templates/ and static/: shipped in the wheel, else the checkout's site/."""
    packaged = PACKAGE_ROOT / "verify" / "_site"
    if (packaged / "templates").is_dir():
        return packaged
    return PACKAGE_ROOT / "site"


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


def environment():
    """The jinja2 environment: autoescape on, undefined names are errors."""
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


def publish(
    corpus: Corpus, out: Path, *, full: bool = False, skip_invalid_records: bool = False,
    cache: bool = True,
) -> PublishResult:  # fmt: skip
    """Build the site for `corpus` into `out`, replacing a previous site there atomically; the
    previous site's files of unchanged claims are reused unless `full`, cached downloads unless
    not `cache`. Run records that could not be read make it refuse (RecordError) unless
    `skip_invalid_records`, and then the site names them."""
    if corpus.skipped and not skip_invalid_records:
        raise _unreadable(corpus)
    start = time.perf_counter()
    out = Path(out).absolute()
    _check_target(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    except OSError as e:
        raise UsageError(f"cannot write a site next to {out} ({e}); choose another --out") from e
    try:
        restored = rowcache.restore(corpus) if cache else None
        data = sitedata.gather(corpus, documents=False)
        if cache:
            rowcache.save(corpus, restored)
        data.texts["measurements"] = runcsv.measurements_csv(
            corpus, data, use_cache=cache and doccache.records_tell(corpus)
        )
        shared = incremental.shared_digest(data, corpus.files)
        digests = incremental.claim_digests(data, shared, corpus.record_stats)
        before = None if full or not (out / MARKER).is_file() else out
        old = incremental.previous(out) if before else {}
        reuse = {c for c, d in digests.items() if old.get(c) == d and _has_files(out, c)}
        changed = [c for c in data.claims if c not in reuse]
        data.documents, fresh = doccache.claim_documents(
            corpus, changed if reuse else None, use_cache=cache
        )
        kept = incremental.PageReuse(shared, corpus.record_stats, digests,
                                     incremental.previous(out, "pages") if before else {})  # fmt: skip
        writer = _Writer(tmp, environment(), data, previous=before, reuse=reuse, kept=kept)
        writer.build()
        (tmp / MARKER).write_text("fwclaims static site; `verify publish` replaces this folder\n")
        (tmp / incremental.MANIFEST).write_text(incremental.manifest_text(digests, kept.digests))
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return PublishResult(out, writer.pages, writer.files, len(data.claims),
                         time.perf_counter() - start, len(reuse), len(fresh))  # fmt: skip


def _has_files(site: Path, claim_id: str) -> bool:
    return (site / incremental.claim_files(claim_id)[0]).is_file()


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


class _Writer:
    """Renders every page and copies assets and raw records into the build folder."""

    def __init__(
        self, base: Path, env, data: SiteData, *, previous: Path | None = None,
        reuse: set[str] | frozenset[str] = frozenset(), kept: incremental.PageReuse | None = None,
    ) -> None:  # fmt: skip
        self.base, self.env, self.data = base, env, data
        self.previous, self.reuse = previous, reuse
        self.kept = kept or incremental.PageReuse("", {}, {})
        self.pages = self.files = 0

    def reused(self, claim_id: str) -> bool:
        """Link an unchanged claim's files from the previous site; whether it did."""
        if self.previous is None or claim_id not in self.reuse:
            return False
        for rel in incremental.claim_files(claim_id):
            src = self.previous / rel
            if src.is_file():
                incremental.link_or_copy(src, self.base / rel)
                self.files += 1
                self.pages += rel.endswith(".html")
        return True

    def reused_page(self, rel: str, digest: str) -> bool:
        """Link a page whose inputs (`digest`) did not change from the previous site; whether it
        did. The digest goes into the new site's manifest either way."""
        self.kept.digests[rel] = digest
        src = self.previous / rel if self.previous is not None else None
        if src is None or self.kept.previous.get(rel) != digest or not src.is_file():
            return False
        incremental.link_or_copy(src, self.base / rel)
        self.files += 1
        self.pages += rel.endswith(".html")
        return True

    def write(self, rel: str, content: str | bytes) -> None:
        path = self.base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        self.files += 1
        self.pages += rel.endswith(".html")

    def render(self, rel: str, template: str, **ctx) -> None:
        root = "../" * rel.count("/")
        self.write(rel, self.env.get_template(template).render(root=root, page=rel, **ctx))

    def build(self) -> None:
        shutil.copytree(site_source() / "static", self.base / "static")
        self.files += sum(1 for p in (self.base / "static").rglob("*") if p.is_file())
        pages.write_all(self)
        self.copy_records()

    def copy_records(self) -> None:
        """Raw run and exploration records, so the pages' record links work offline: hard links
        to the records themselves (they never change once written), else to the previous site's
        copy, else a copy (another file system, or one that cannot link)."""
        # plain strings, not Paths: this runs once per record, and pathlib's joins cost more
        # than the links themselves
        root, base = str(self.data.root), str(self.base)
        results = os.path.realpath(os.path.join(root, "data", "results"))
        previous = str(self.previous) if self.previous else None
        folders: set[str] = set()
        inside: dict[str, bool] = {}  # a record folder -> whether it really is in results/
        for r in [*self.data.runs, *self.data.explorations.values()]:
            href = claimpage.record_href(r.record)
            if not href or not r.record:
                continue
            src = os.path.join(root, r.record)
            folder = os.path.dirname(src)
            if folder not in inside:
                inside[folder] = _within(os.path.realpath(folder), results)
            if not inside[folder] or os.path.islink(src):  # a link may point anywhere
                src = os.path.realpath(src)
                if not _within(src, results):
                    continue
            dest = os.path.join(base, href)
            if os.path.dirname(dest) not in folders:
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                folders.add(os.path.dirname(dest))
            old = os.path.join(previous, href) if previous else None
            if incremental.link_record(src, dest, old):
                self.files += 1


def _within(path: str, folder: str) -> bool:
    """Whether `path` (resolved) is `folder` or inside it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
