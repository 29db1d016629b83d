"""Rendered documents kept by content: a document's PDF is stored under a hash of its HTML (everything the page
shows, after the plan, the instance and the report metadata went through the templates) and the renderer's version
(the report code, templates and CSS: ``cache.code_fingerprint``, and WeasyPrint's version). A build looks each
document up before laying it out, so building the same documents again (a re-publish, the ZIP rebuilt after the
cache was pruned, a body's ZIP after the prefecture's) lays out only the documents whose pages changed.

Keyed by the HTML, not by a list of the inputs a document reads: the HTML is exactly what the layout sees, so no
input can be missed, and a change that alters no page (a group elsewhere in the plan) costs no layout.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from functools import lru_cache
from pathlib import Path

MAX_AGE_SECONDS = 7 * 86400


@lru_cache(maxsize=1)
def renderer_version() -> str:
    import weasyprint

    from .cache import code_fingerprint

    return f"{code_fingerprint()}-weasyprint-{weasyprint.__version__}"


def document_key(kind: str, html: str) -> str:
    digest = hashlib.sha256()
    for part in (renderer_version(), kind, html):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


class DocumentCache:
    """PDFs by key in ``folder`` (two-letter subfolders); reads and writes never fail a build."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _path(self, key: str, suffix: str = ".pdf") -> Path:
        return self.folder / key[:2] / f"{key}{suffix}"

    def get(self, key: str, suffix: str = ".pdf") -> bytes | None:
        """The file kept under ``key`` (a PDF, or with ``suffix`` a workbook or Word draft: planner.reports.office_cache)."""
        path = self._path(key, suffix)
        try:
            data = path.read_bytes()
            os.utime(path)  # in use: kept another MAX_AGE_SECONDS
            return data
        except OSError:
            return None

    def put(self, key: str, data: bytes, suffix: str = ".pdf") -> None:
        path = self._path(key, suffix)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError:
            pass

    def get_body(self, key: str) -> tuple[bytes, list] | None:
        """A body laid out before (planner.reports.stamp): its PDF and where its stamp slots are."""
        data = self.get(key)
        if data is None:
            return None
        try:
            return data, json.loads(self._path(key).with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put_body(self, key: str, data: bytes, pages: list) -> None:
        """The slots first: a PDF is only ever found with them."""
        try:
            path = self._path(key).with_suffix(".json")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(pages, f)
            os.replace(tmp, path)
        except OSError:
            return
        self.put(key, data)

    def prune(self, now: float | None = None) -> None:
        cutoff = (now or time.time()) - MAX_AGE_SECONDS
        for path in [p for suffix in ("pdf", "xlsx", "docx") for p in self.folder.glob(f"*/*.{suffix}")]:
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    if path.suffix == ".pdf":
                        path.with_suffix(".json").unlink(missing_ok=True)
            except OSError:
                continue
