"""A disk cache for rendered bundles: a Nagano-sized ZIP takes about a minute to render, and a saved plan never
changes, so the second download of the same documents should be instant.

The key covers everything a document depends on (the plan and instance documents, the report metadata with the
issue date, which documents are included) and a fingerprint of the templates, CSS and report code, so that a new
version of any of them never serves an old file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from .render import PROJECT_ROOT, TEMPLATES

MAX_AGE_SECONDS = 7 * 86400


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    digest = hashlib.sha256()
    files = [*sorted((TEMPLATES / "reports").glob("*.html")), PROJECT_ROOT / "static" / "css" / "report.css"]
    files += sorted(Path(__file__).parent.glob("*.py"))
    # The summary's map and charts are drawn by planner.charts, over the outlines in planner/data.
    charts = Path(__file__).parent.parent / "charts"
    files += [*sorted(charts.glob("*.py")), charts.parent / "data" / "prefecture_outlines.json"]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(*parts: Any) -> str:
    blob = json.dumps([code_fingerprint(), *parts], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def cached(directory: str | Path, key: str, suffix: str, produce: Callable[[], bytes]) -> bytes:
    """The bytes stored under ``key``, or ``produce()``'s, stored whole (temp file and rename) for next time."""
    folder = Path(directory)
    path = folder / f"{key}{suffix}"
    if path.exists():
        return path.read_bytes()
    data = produce()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        _prune(folder)
    except OSError:
        pass  # a cache that cannot be written only costs time; the download itself must not fail
    return data


def _prune(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue
