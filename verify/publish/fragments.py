"""Rendered pieces of the pages that list every claim, run or flip (the index's rows, an
environment's runs, the changes page's rows and the feed's entries), kept beside the corpus cache
so that a publish renders only the pieces whose inputs changed and joins the rest.

A piece is rendered by a macro of site/templates/rows.html from plain values only, and is kept
under a digest of those values, the macro's name and the code and templates that render pages
(verify.publish.incremental.code_digest): the values a macro is given are all it can show, so the
same key gives the same bytes. Each kind of piece is one file holding the pieces the last publish
used (pieces no page uses any more are dropped), as a pickle read back by an unpickler that builds
nothing but strings, dicts and tuples, under a digest of its bytes: a damaged or foreign file is
a miss. A site made with no cache renders every piece with the same macros, so it has the same
bytes.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kg.fsutil import write_atomic

VERSION = "1"
FOLDER = "site-fragments"


class _PlainUnpickler(pickle.Unpickler):
    """Builds no class at all: a fragment file holds only built-in containers and strings."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name}: a fragment file holds no objects")


class Fragments:
    """The pieces of one publish, read from and saved to `folder` (None: no cache, every piece
    rendered), all under the digest `code` of what renders them."""

    def __init__(self, folder: Path | None, code: str = "") -> None:
        self.folder, self.code = folder, code
        self.kept: dict[str, dict[str, str]] = {}
        self.used: dict[str, dict[str, str]] = {}
        self.made: dict[str, int] = {}  # kind -> pieces rendered this time
        self.families: dict[str, set[str]] = {}  # "kind." -> the names that still have a page

    def piece(
        self, kind: str, values: tuple[Any, ...], render: Callable[..., Any],
        made: Callable[[], tuple[Any, ...]] | None = None,
    ) -> str:  # fmt: skip
        """The piece `render(*values)` (a jinja2 macro) of kind `kind`, kept or rendered; with
        `made`, the piece is `render(*made())`, kept under `values`, which must tell apart
        whatever `made` gives (the inputs of a costly value instead of the value)."""
        if made is None:
            made = lambda: values  # noqa: E731
        if self.folder is None:
            return str(render(*made()))
        key = hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()
        used = self.used.setdefault(kind, {})
        found = used.get(key)
        if found is None:
            found = self._kept(kind).get(key)
            if found is None:
                found = str(render(*made()))
                self.made[kind] = self.made.get(kind, 0) + 1
            used[key] = found
        return found

    def _path(self, kind: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{kind}.pickle"

    def _kept(self, kind: str) -> dict[str, str]:
        if kind not in self.kept:
            self.kept[kind] = _read(self._path(kind), self._stamp(kind))
        return self.kept[kind]

    def _stamp(self, kind: str) -> str:
        return hashlib.sha256(f"v{VERSION}\0{self.code}\0{kind}".encode()).hexdigest()

    def live(self, family: str, names: set[str]) -> None:
        """Kinds `family + name` (one per page, as "environment-run.<page>") exist only for
        `names`: on save, the files of the others (pages gone from the site) are removed."""
        self.families[family] = set(names)

    def save(self) -> None:
        """Keep this publish's pieces for the next (a kind's file only where it changed), and
        drop the files of pages that are gone."""
        if self.folder is None:
            return
        for family, names in self.families.items():
            for path in self.folder.glob(f"{family}*.pickle"):
                if path.name[len(family) : -len(".pickle")] not in names:
                    try:
                        path.unlink(missing_ok=True)
                    except OSError:
                        pass  # a read-only cache only costs space
        for kind, used in self.used.items():
            if not self.made.get(kind) and len(used) == len(self._kept(kind)):
                continue  # every piece came from the file, and all of it was used: unchanged
            body = pickle.dumps(used, protocol=5)
            head = f"fwclaims-fragments {self._stamp(kind)} {hashlib.sha256(body).hexdigest()}\n"
            try:
                write_atomic(self._path(kind), head.encode("ascii") + body)
            except OSError:
                pass  # a read-only cache only costs speed


def _read(path: Path, stamp: str) -> dict[str, str]:
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    head, _, body = data.partition(b"\n")
    parts = head.decode("ascii", "replace").split(" ")
    if len(parts) != 3 or parts[:2] != ["fwclaims-fragments", stamp]:
        return {}
    if hashlib.sha256(body).hexdigest() != parts[2]:
        return {}
    try:
        kept = _PlainUnpickler(io.BytesIO(body)).load()
    except Exception:  # any damage is a miss: the pieces are rendered again
        return {}
    if not isinstance(kept, dict):
        return {}
    return {k: v for k, v in kept.items() if isinstance(k, str) and isinstance(v, str)}
