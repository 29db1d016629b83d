"""Uploaded files kept between an import's preview and its confirmation, keyed by a random token.

The file itself is kept (not the parsed rows), and the confirmation parses and checks it again against the database
as it is then: a need changed by someone else in between, or a user whose scope changed, cannot slip through on a
stale preview. Users need not choose the file twice, and the token is bound to the user who uploaded it. Files
older than MAX_AGE are removed whenever a new one is stored.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

MAX_AGE_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class StoredUpload:
    token: str
    file_name: str
    data: bytes


def _paths(directory: Path, token: str) -> tuple[Path, Path]:
    return directory / f"{token}.bin", directory / f"{token}.json"


def purge(directory: Path, now: float | None = None) -> None:
    now = now if now is not None else time.time()
    if not directory.is_dir():
        return
    for path in directory.glob("*.json"):
        try:
            meta = json.loads(path.read_text())
            expired = now - float(meta.get("created", 0)) > MAX_AGE_SECONDS
        except (OSError, ValueError):
            expired = True
        if expired:
            path.with_suffix(".bin").unlink(missing_ok=True)
            path.unlink(missing_ok=True)


def save(directory: Path, user_id: int, file_name: str, data: bytes) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    purge(directory)
    token = secrets.token_urlsafe(24)
    data_path, meta_path = _paths(directory, token)
    data_path.write_bytes(data)
    meta_path.write_text(json.dumps({"user_id": user_id, "file_name": file_name, "created": time.time()}))
    return token


def load(directory: Path, token: str | None, user_id: int) -> StoredUpload | None:
    """The upload of this user under this token, or None (unknown, expired, or someone else's)."""
    if not token or not _TOKEN.match(token):
        return None
    data_path, meta_path = _paths(directory, token)
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("user_id") != user_id or time.time() - float(meta.get("created", 0)) > MAX_AGE_SECONDS:
            return None
        return StoredUpload(token, str(meta.get("file_name", "")), data_path.read_bytes())
    except (OSError, ValueError):
        return None


def claim(directory: Path, token: str | None, user_id: int) -> StoredUpload | None:
    """Take the upload for one confirmation: of concurrent confirmations of one token exactly one gets it (the
    metadata file is renamed away atomically), the others get None. The claimed files are removed."""
    if not token or not _TOKEN.match(token):
        return None
    data_path, meta_path = _paths(directory, token)
    claimed = meta_path.with_name(f"{token}.claimed-{secrets.token_hex(8)}")
    try:
        meta_path.rename(claimed)  # atomic: a second rename of the same name fails with FileNotFoundError
    except OSError:
        return None
    try:
        meta = json.loads(claimed.read_text())
        if meta.get("user_id") != user_id:
            claimed.rename(meta_path)  # not this user's: leave it for its owner
            return None
        if time.time() - float(meta.get("created", 0)) > MAX_AGE_SECONDS:
            return None
        return StoredUpload(token, str(meta.get("file_name", "")), data_path.read_bytes())
    except (OSError, ValueError):
        return None
    finally:
        if claimed.exists() and not meta_path.exists():
            claimed.unlink(missing_ok=True)
            data_path.unlink(missing_ok=True)


def discard(directory: Path, token: str) -> None:
    if token and _TOKEN.match(token):
        for path in _paths(directory, token):
            path.unlink(missing_ok=True)
