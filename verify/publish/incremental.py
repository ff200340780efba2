"""Incremental publish: a claim's files (page, Turtle, JSON-LD, runs CSV), an environment's page,
a source's page and the changes page and feed are rendered again only when something they are
made of changed; otherwise the previous site's files stay as they are (verify.publish.writer).

What a claim's files are made of, as a digest kept in the site's manifest: the claim's own run
records (path, size, modification time; records are append-only), and everything the pages share
(the code and templates that render them, every Turtle file of the corpus, the environments' names
and which of them is "this machine", the newest run's). An environment's page is made of those, the
environment's row and its runs' records; a source's page of those and its claims' digests (their
statuses); the changes page and feed of those, the flips and their runs' records. A changed claim
file or any code change therefore rebuilds every page, and so does a record that makes another
environment the newest run's; a new run record from that machine rebuilds only its claim's files,
its environment's page and the pages of its claim's sources (and the changes page where it flips a
verdict). The claims' download is made of the claim files alone, so it is kept while they and
the code are unchanged. The pages that list all claims or all runs (index, the sources' and
environments' indexes, the other downloads) are always rendered, from rows of which only the
records added since the previous publish are queried (kg.rowcache), and from pieces of which only
those whose inputs changed are rendered (verify.publish.fragments); a file whose bytes did not
change is not written again. The result is the same, byte for byte, as a full publish (a test
holds it to that).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.paths import PACKAGE_ROOT
from verify.publish.sitedata import SiteData, safe_name

MANIFEST = ".fwclaims-manifest.json"
VERSION = 2
CODE_GLOBS = ("kg/*.py", "kg/*.ttl", "kg/*.json", "verify/publish/*.py", "verify/judge/*.py",
              "site/templates/*", "site/static/*", "verify/_site/templates/*",
              "verify/_site/static/*")  # fmt: skip


def _hash_files(h: Any, files: list[Path]) -> None:
    for f in files:
        try:
            data = f.read_bytes()
        except OSError:
            continue
        h.update(f"{f.name}\0{len(data)}\0".encode())
        h.update(data)


def code_digest() -> str:
    """A digest of the code and templates that render the site."""
    h = hashlib.sha256(f"v{VERSION}".encode())
    _hash_files(h, sorted(f for g in CODE_GLOBS for f in PACKAGE_ROOT.glob(g)))
    return h.hexdigest()


def shared_digest(data: SiteData, turtle_files: list[Path], code: str | None = None) -> str:
    """A digest of what every claim's files share: code and templates (`code`, their digest
    when already known), Turtle, environment names."""
    h = hashlib.sha256(f"v{VERSION}\0{code or code_digest()}".encode())
    _hash_files(h, turtle_files)
    envs = [(e, data.environments[e].display, data.environments[e].machine,
             data.environments[e].versions, data.environments[e].short,
             data.environments[e].here) for e in data.env_order]  # fmt: skip
    h.update(json.dumps(envs).encode())
    return h.hexdigest()


def claim_digests(
    data: SiteData, shared: str, seen: dict[str, list[int] | None] | None = None
) -> dict[str, str]:
    """Each claim id -> the digest of what its files are made of; `seen`: each record file's
    size and time as the corpus was loaded (kg.load), by its path as the graph names it
    (Corpus.records_seen), so that a record changed since the load cannot lend its new state
    to files made from the old one."""
    out = {}
    for cid in data.claims:
        explored = data.explorations.get(cid)
        runs = [*data.runs_by_claim.get(cid, []), *([explored] if explored else [])]
        out[cid] = runs_digest(shared, "", runs, data.root, seen)
    return out


def runs_digest(
    shared: str, what: str, runs: list[Any], root: Path, seen: dict[str, list[int] | None] | None
) -> str:
    """The digest of a page made of `what` (text the shared inputs do not cover) and these runs,
    each told by its record file."""
    h = hashlib.sha256(shared.encode())
    if what:
        h.update(what.encode() + b"\0")
    # one update of the runs joined: the same bytes as one per run, at a fraction of the calls
    h.update("".join([f"{r.run}\0{r.record}\0{_stat(root, r.record, seen)}\n"
                      for r in runs]).encode())  # fmt: skip
    return h.hexdigest()


def group_digest(shared: str, what: str, digests: list[str]) -> str:
    """The digest of a page made of `what` and of the claims with these digests (a source's)."""
    h = hashlib.sha256(f"{shared}\0{what}\0".encode())
    for d in digests:
        h.update(d.encode())
    return h.hexdigest()


@dataclass
class PageReuse:
    """What the pages other than claims' are told apart by: the shared digest, the records as
    loaded (by their paths as the graph names them), the claims' digests, and the previous
    site's page digests; the digests of this site's pages collect in `digests`."""

    shared: str
    seen: dict[str, list[int] | None]
    claims: dict[str, str]
    previous: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)


def _stat(root: Path, record: str | None, seen: dict[str, list[int] | None] | None) -> str:
    if not record:
        return ""
    known = seen.get(record) if seen else None
    if known:
        return f"{known[0]}:{known[1]}"
    try:
        st = (root / record).stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def previous(out: Path, part: str = "claims") -> dict[str, str]:
    """The claim digests (or with part="pages" the other pages' digests) of the site already at
    `out` (empty when there is none to reuse)."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict) or manifest.get("version") != VERSION:
        return {}
    found = manifest.get(part)
    return found if isinstance(found, dict) else {}


def manifest_text(digests: dict[str, str], pages: dict[str, str] | None = None) -> str:
    """The manifest a site keeps for the next publish."""
    manifest = {"version": VERSION, "claims": digests, "pages": pages or {}}
    return json.dumps(manifest, indent=0, sort_keys=True) + "\n"


def claim_files(cid: str) -> list[str]:
    """The files of one claim, relative to the site."""
    name = safe_name(cid)
    return [f"claims/{name}{ext}" for ext in (".html", ".ttl", ".jsonld", ".runs.csv")]


def link_record(src: str | Path, dest: str | Path, old: str | Path | None = None) -> bool:
    """Put the raw record `src` at `dest` (whose folder exists): a hard link to it, else to
    `old` (the previous site's copy, when it is as long), else a copy; False when there is no
    such record or `dest` is there already."""
    try:
        os.link(src, dest)
        return True
    except FileExistsError:
        return False
    except FileNotFoundError:
        if not os.path.isfile(src):
            return False
    except OSError:
        pass
    try:
        if old is not None and os.stat(old).st_size == os.stat(src).st_size:
            os.link(old, dest)
            return True
    except FileExistsError:
        return False
    except OSError:
        pass
    try:
        shutil.copyfile(src, dest)
    except (FileNotFoundError, IsADirectoryError):
        return False
    return True
