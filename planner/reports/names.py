"""File names every output uses (ZIP entries, download names, ``planner report``'s files), safe to show and to
extract (issue #30).

A body's or scenario's name is user data: it may carry a right-to-left override (U+202E makes "…fdp.exe" read
"…exe.pdf") or other invisible format characters, and may be long enough that the joined name passes what common
file systems hold (255 bytes; a ZIP entry of 521 bytes could not be extracted). So format characters (Unicode
category Cf) are removed, separators replaced, and a name is kept within MAX_NAME_BYTES of UTF-8 by shortening its
free-text parts (names, categories), never the codes and ids that tell files apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

MAX_NAME_BYTES = 200
_MIN_PART_BYTES = 12  # a shortened name keeps at least its first few characters
_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def _visible(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""  # bidi controls, zero-width joiners, soft hyphens: nothing a file name should hold
    if category in ("Zl", "Zp", "Cc"):
        return "_"
    return ch


def safe_name(text: str) -> str:
    """A file-name part: no path separators, characters some file systems refuse, or format characters."""
    cleaned = _FORBIDDEN.sub("_", "".join(_visible(ch) for ch in text)).strip(" .")
    return cleaned or "_"


def cut_bytes(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` bytes of UTF-8, on a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore").rstrip(" .") or "_"


def fitted(
    parts: Sequence[tuple[str, bool]], *, prefix: str = "", suffix: str = "", limit: int = MAX_NAME_BYTES
) -> str:
    """``prefix`` + the safe parts joined by "_" + ``suffix``, within ``limit`` bytes: the longest shortenable part
    (flag True) is cut first, codes and ids (flag False) are kept whole."""
    names = [safe_name(text) for text, _ in parts]
    fixed = len(prefix.encode()) + len(suffix.encode()) + max(len(names) - 1, 0)
    while True:
        total = fixed + sum(len(n.encode()) for n in names)
        over = total - limit
        free = [i for i, (_, shortenable) in enumerate(parts) if shortenable]
        if over <= 0 or not free:
            break
        longest = max(free, key=lambda i: len(names[i].encode()))
        size = len(names[longest].encode())
        if size <= _MIN_PART_BYTES:
            break
        names[longest] = cut_bytes(names[longest], max(size - over, _MIN_PART_BYTES, size // 2))
    return prefix + "_".join(names) + suffix


def fitted_name(name: str, suffix: str = "", limit: int = MAX_NAME_BYTES) -> str:
    """One free-text name (a download's) within ``limit`` bytes with its extension."""
    return fitted([(name, True)], suffix=suffix, limit=limit)
