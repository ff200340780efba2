"""Where a publish puts the site's files: `SiteWriter` into a new, empty folder (swapped in by
verify.publish.build), `InPlaceWriter` into the previous site itself.

In place, a file is written only where its bytes differ from the previous site's, and never over
it directly: each goes to a hidden temporary name beside its place while the pages are rendered,
so that a publish that fails leaves the previous site as it was (the temporary files removed).
Only when every page is rendered does `commit` put them in place, one rename each (a reader sees
the old file or the new one, never half of one), after writing a manifest that vouches only for
the files that stay unchanged; then it removes the files the new site no longer has and writes
the full manifest last. A publish stopped part way (killed, a power cut) therefore leaves whole
files, some old and some new, under a manifest that makes the next publish render every file that
may have changed; that publish also removes the temporary files left behind, as it removes every
file the site should not have.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg.fsutil import write_atomic
from kg.paths import PACKAGE_ROOT
from verify.publish import claimpage, incremental, pages
from verify.publish.fragments import Fragments
from verify.publish.parallel import ClaimPages, SideWork, helpers_for, side_helper_for
from verify.publish.sitedata import Content, SiteData


def site_source() -> Path:
    """The folder with templates/ and static/: shipped in the wheel, else the checkout's site/."""
    packaged = PACKAGE_ROOT / "verify" / "_site"
    if (packaged / "templates").is_dir():
        return packaged
    return PACKAGE_ROOT / "site"


def site_static() -> Path:
    """The folder of the assets every site ships (static/)."""
    return site_source() / "static"


class SiteWriter:
    """Renders every page and copies assets and raw records into an empty folder. A file whose
    bytes the site being replaced (`previous`) has at the same place is a hard link to that file
    rather than a second copy: the bytes are the same, and removing the old site then frees
    nothing but the files that changed (removing 1.7 GB of pages took longer than writing them).
    Neither publish ever writes into an existing file (the in-place one renames new files over
    old ones), so a linked file does not change after the swap."""

    def __init__(
        self, base: Path, env: Any, data: SiteData, *, kept: incremental.PageReuse | None = None,
        fragments: Fragments | None = None, previous: Path | None = None,
    ) -> None:  # fmt: skip
        self.base, self.env, self.data = base, env, data
        self.previous = str(previous) if previous is not None else None
        self.kept = kept or incremental.PageReuse("", {}, {})
        self.fragments = fragments or Fragments(None)
        self.pages = self.files = 0

    def reused(self, claim_id: str) -> bool:
        """Keep an unchanged claim's files from the previous site; whether it did (a new folder
        has no previous site)."""
        return False

    def reused_page(self, rel: str, digest: str) -> bool:
        """Keep a page whose inputs (`digest`) did not change from the previous site; whether it
        did. The digest goes into the new site's manifest either way."""
        self.kept.digests[rel] = digest
        return False

    def claim_pages(self, todo: list[str], render: Callable[[str], None]) -> ClaimPages:
        """The claim pages still to render, shared with helper processes where there are many
        (verify.publish.parallel): each process writes its pages into the new folder."""
        return ClaimPages(todo, render, helpers_for(len(todo)), lambda: (self.files, self.pages))

    def beside(self, tasks: list[Callable[[], None]]) -> SideWork:
        """Files that list everything (the downloads and the changes page), written while the
        rest goes on: here, as the block starts (the claim pages' helpers already use the other
        cores)."""
        return SideWork(tasks, False, dict, lambda state: None, lambda: None)

    def count(self, rel: str) -> None:
        """Count a file of the new site."""
        self.files += 1
        self.pages += rel.endswith(".html")

    def write(self, rel: str, content: Content, *, counted: bool = True) -> None:
        """Write one file of the site (`counted` among its files unless it is the marker)."""
        path = self.base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = pieces(content)
        if self.previous is None or not same_file_linked(os.path.join(self.previous, rel),
                                                         path, data):  # fmt: skip
            _write_pieces(path, data)
        if counted:
            self.count(rel)

    def render(self, rel: str, template: str, **ctx: Any) -> None:
        """Render a template into one file of the site."""
        root = "../" * rel.count("/")
        self.write(rel, self.env.get_template(template).render(root=root, page=rel, **ctx))

    def build(self) -> None:
        """Every file of the site."""
        shutil.copytree(site_static(), self.base / "static")
        self.files += sum(1 for p in (self.base / "static").rglob("*") if p.is_file())
        pages.write_all(self, also=self.copy_records)

    def copy_records(self) -> None:
        """Raw run and exploration records, so the pages' record links work offline: hard links
        to the records themselves (they never change once written), else a copy (another file
        system, or one that cannot link)."""
        folders: set[str] = set()
        for href, src, _ in record_sources(self.data):
            dest = os.path.join(str(self.base), href)
            if os.path.dirname(dest) not in folders:
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                folders.add(os.path.dirname(dest))
            if incremental.link_record(src, dest):
                self.files += 1


def pieces(content: Content) -> list[bytes | memoryview]:
    """A file's content as the pieces its bytes are written in, one after another."""
    if isinstance(content, str):
        return [content.encode()]
    if isinstance(content, bytes | bytearray | memoryview):
        return [content]
    return content


def _write_pieces(path: str | Path, data: list[bytes | memoryview]) -> None:
    with open(path, "wb") as fh:
        fh.writelines(data)


def holds(path: str, data: list[bytes | memoryview]) -> bool:
    """Whether `path` is a plain file (not a link) holding exactly the bytes of `data`, one piece
    after another."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != sum(map(len, data)):
            return False
        with open(path, "rb") as fh:
            return all(fh.read(len(p)) == p for p in data) and not fh.read(1)
    except OSError:
        return False


def same_file_linked(old: str, new: Path, data: list[bytes | memoryview]) -> bool:
    """Make `new` a hard link to `old` where `old` holds exactly the bytes of `data` (`holds`);
    whether it did (not for a link, another file system, or different bytes)."""
    if not holds(old, data):
        return False
    try:
        os.link(old, new, follow_symlinks=False)
    except OSError:
        return False
    return True


def record_sources(data: SiteData) -> Iterator[tuple[str, str, str]]:
    """Each raw record the site ships, once: its place in the site, the file it is made from
    (inside data/results/; records that lead elsewhere are left out) and its claim."""
    # plain strings, not Paths: this runs once per record, and pathlib's joins cost more than
    # the links themselves
    root = str(data.root)
    results = os.path.realpath(os.path.join(root, "data", "results"))
    inside: dict[str, bool] = {}  # a record folder -> whether it really is in results/
    links: dict[str, set[str]] = {}  # a record folder -> the names of the links in it
    seen: set[str] = set()
    for r in [*data.runs, *data.explorations.values()]:
        href = claimpage.record_href(r.record)
        if not href or not r.record or href in seen:
            continue
        src = os.path.join(root, r.record)
        folder, name = os.path.split(src)
        if folder not in inside:
            inside[folder] = _within(os.path.realpath(folder), results)
            links[folder] = _links(folder)
        if not inside[folder] or name in links[folder]:  # a link may point anywhere
            src = os.path.realpath(src)
            if not _within(src, results):
                continue
        seen.add(href)
        yield href, src, r.claim_id


def _links(folder: str) -> set[str]:
    """The names of the symbolic links in `folder`, from one listing (not a stat per record)."""
    try:
        with os.scandir(folder) as entries:
            return {e.name for e in entries if e.is_symlink()}
    except OSError:
        return set()


def _within(path: str, folder: str) -> bool:
    """Whether `path` (resolved) is `folder` or inside it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def site_files(site: Path) -> set[str]:
    """Every file (and link) under `site`, by its path relative to it."""
    found: set[str] = set()
    todo = [("", str(site))]
    while todo:
        prefix, folder = todo.pop()
        with os.scandir(folder) as entries:
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    todo.append((f"{prefix}{e.name}/", e.path))
                else:
                    found.add(prefix + e.name)
    return found


class InPlaceWriter(SiteWriter):
    """Updates the previous site at `base`: only files whose bytes change are written, staged
    under temporary names until `commit` (see the module's docstring)."""

    def __init__(
        self, base: Path, env: Any, data: SiteData, *, reuse: set[str],
        kept: incremental.PageReuse, fragments: Fragments | None = None,
    ) -> None:  # fmt: skip
        super().__init__(base, env, data, kept=kept, fragments=fragments)
        self.reuse = reuse
        self.existing = site_files(base)
        self.present: set[str] = set()  # the files of the new site
        self.staged: list[tuple[Path, Path]] = []  # temporary file -> its place
        self.folders: list[Path] = []  # folders made for staged files, outermost first
        self.token = uuid.uuid4().hex[:8]

    def keep(self, rel: str) -> bool:
        """Keep a file of the previous site as it is; whether there is one."""
        if rel not in self.existing:
            return False
        self.present.add(rel)
        self.count(rel)
        return True

    def claim_pages(self, todo: list[str], render: Callable[[str], None]) -> ClaimPages:
        """The claim pages to render, all in this process: staged files are this process's to
        commit or remove."""
        return ClaimPages(todo, render, 0, lambda: (self.files, self.pages))

    def beside(self, tasks: list[Callable[[], None]]) -> SideWork:
        """Files that list everything (the downloads and the changes page), written in a forked
        helper where the site has many runs (verify.publish.parallel.side_helper_for), else
        here: the helper stages its files as this process would and hands back what it staged,
        which this process then commits or removes with its own. Call it just before the block
        it serves starts."""
        mark = (len(self.staged), len(self.folders), set(self.present), self.files, self.pages,
                dict(self.kept.digests))  # fmt: skip

        def state() -> dict[str, Any]:
            self.fragments.save()  # pieces its tasks used: this process's save has none of them
            staged, folders, present, files, pages, digests = mark
            return {"staged": self.staged[staged:], "folders": self.folders[folders:],
                    "present": self.present - present, "files": self.files - files,
                    "pages": self.pages - pages,
                    "digests": {k: v for k, v in self.kept.digests.items()
                                if digests.get(k) != v}}  # fmt: skip

        def merge(got: dict[str, Any]) -> None:
            self.staged += got["staged"]
            self.folders += got["folders"]
            self.present |= got["present"]
            self.files, self.pages = self.files + got["files"], self.pages + got["pages"]
            self.kept.digests.update(got["digests"])

        def undo() -> None:
            self._remove(self.staged[mark[0] :], self.folders[mark[1] :])

        return SideWork(tasks, side_helper_for(len(self.data.runs)), state, merge, undo)

    def reused(self, claim_id: str) -> bool:
        """Keep an unchanged claim's files; whether it did."""
        if claim_id not in self.reuse:
            return False
        for rel in incremental.claim_files(claim_id):
            self.keep(rel)
        return True

    def reused_page(self, rel: str, digest: str) -> bool:
        """Keep a page whose inputs (`digest`) did not change; whether it did."""
        self.kept.digests[rel] = digest
        return self.kept.previous.get(rel) == digest and self.keep(rel)

    def _temporary(self, rel: str) -> tuple[Path, Path]:
        path = self.base / rel
        if not path.parent.is_dir():
            missing = [p for p in path.parents if not p.is_dir()]
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders += reversed(missing)
        tmp = path.with_name(f".{path.name}.{self.token}.tmp")
        self.staged.append((tmp, path))
        return tmp, path

    def write(self, rel: str, content: Content, *, counted: bool = True) -> None:
        """Stage one file of the site, unless the previous site has it with these bytes."""
        data = pieces(content)
        self.present.add(rel)
        if counted:
            self.count(rel)
        if rel in self.existing and holds(os.path.join(self.base, rel), data):
            return
        tmp, _ = self._temporary(rel)
        _write_pieces(tmp, data)

    def build(self) -> None:
        """Every file of the site, staged."""
        static = site_static()
        for p in sorted(static.rglob("*")):
            if p.is_file():
                self.write(f"static/{p.relative_to(static).as_posix()}", p.read_bytes())
        pages.write_all(self, also=self.copy_records)

    def copy_records(self) -> None:
        """The raw records: an unchanged claim's records stay as they are (its digest holds
        their sizes and times); any other is checked to be a link to its record, else staged
        as one (or as a copy where no link can be made)."""
        for href, src, claim_id in record_sources(self.data):
            self.present.add(href)
            if href in self.existing and claim_id in self.reuse:
                self.count(href)
                continue
            dest = os.path.join(str(self.base), href)
            try:
                s, d = os.stat(src), os.stat(dest)
                if (s.st_ino, s.st_dev) == (d.st_ino, d.st_dev):
                    self.count(href)
                    continue
            except FileNotFoundError:
                if not os.path.isfile(src):
                    self.present.discard(href)
                    continue
            tmp, _ = self._temporary(href)
            if incremental.link_record(src, tmp, dest if href in self.existing else None):
                self.count(href)
            else:
                self.present.discard(href)

    def commit(self, manifest: str, interim: str) -> None:
        """Put the staged files in place under the `interim` manifest, remove the files the site
        no longer has, then write `manifest`."""
        self.present.add(incremental.MANIFEST)
        stale = self.existing - self.present
        if self.staged or stale:
            write_atomic(self.base / incremental.MANIFEST, interim)
        for tmp, path in self.staged:
            if os.path.lexists(tmp):
                os.replace(tmp, path)
        self.staged = []
        folders: set[Path] = set()
        for rel in stale:
            path = self.base / rel
            path.unlink(missing_ok=True)
            folders.add(path.parent)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            while folder != self.base:
                try:
                    folder.rmdir()  # only an empty one
                except OSError:
                    break
                folder = folder.parent
        path = self.base / incremental.MANIFEST
        try:
            if path.read_text(encoding="utf-8") == manifest:
                return
        except (OSError, ValueError):
            pass
        write_atomic(path, manifest)

    def abort(self) -> None:
        """Remove the staged files: the previous site stays as it was."""
        self._remove(self.staged, self.folders)
        self.staged, self.folders = [], []

    @staticmethod
    def _remove(staged: list[tuple[Path, Path]], folders: list[Path]) -> None:
        for tmp, _ in staged:
            try:
                tmp.unlink()
            except OSError:
                pass
        for folder in reversed(folders):
            try:
                folder.rmdir()
            except OSError:
                pass
