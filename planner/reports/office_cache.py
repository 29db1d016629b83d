"""Workbooks and Word drafts kept by their inputs, with the version's words filled in (issue #31: version 2 of the
Nagano plan took 57 s, most of it making the 340 workbooks and Word drafts again although only their 文書番号,
計画 No. 第N版 and 発行日 had changed).

A workbook or Word draft is made from the plan, the instance, its key and the report metadata (and the code). It is
made once with placeholders where the document control prints the version's words (``tokened``: the plan's label
and text, the issue date, the plan's 文書番号 before the document's own suffix) and kept under a key of everything
else: the renderer's version, the domain code, the office libraries' versions, the kind, format and key, and the
canonical contents of the instance, the plan and the metadata with its version-specific fields replaced. A build
then takes the kept file and writes the version's words over the placeholders in its XML parts (``fill``): a
version 2 or a re-publish makes no workbook or Word draft again, and a change of any other input is another key.

The placeholders are plain ASCII words that nothing else prints; a filled file that still holds one, or a value the
spreadsheet's header codes would read differently (``&``), is not used: the file is then made directly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from .control import DocumentControl
from .records import ReportMeta

TOKENS = {
    "label": "QQPLANLABELQQ",
    "text": "QQPLANTEXTQQ",
    "date": "QQISSUEDONQQ",
    "number": "QQDOCNUMBERQQ",
}
# The date a tokened document is made with: it prints nowhere (the date's words are a placeholder); should some code
# print a date of its own from it, the filled file says 平成12年 and the test comparing it with a direct render fails.
SENTINEL_DAY = date(2000, 1, 1)


@dataclasses.dataclass(frozen=True)
class _TokenedControl(DocumentControl):
    """A document control whose version-specific words are placeholders."""

    @property
    def plan_text(self) -> str:
        return TOKENS["text"]

    @property
    def issued_wareki(self) -> str:
        return TOKENS["date"]


def tokened(meta: ReportMeta) -> tuple[ReportMeta, dict[str, str]] | None:
    """(the metadata with placeholders, each placeholder's words for this version); None where a value could not be
    written back as the direct render writes it."""
    control = meta.document_control
    values = {
        TOKENS["label"]: control.plan_label,
        TOKENS["text"]: control.plan_text,
        TOKENS["date"]: control.issued_wareki,
    }
    fields = {f.name: getattr(control, f.name) for f in dataclasses.fields(DocumentControl)}
    fields.update(plan_label=TOKENS["label"], issued_on=SENTINEL_DAY)
    if control.base_number:
        values[TOKENS["number"]] = control.base_number
        fields["base_number"] = TOKENS["number"]
    if any("&" in v or "QQ" in v for v in values.values()):
        return None
    return dataclasses.replace(meta, issued_on=SENTINEL_DAY, control=_TokenedControl(**fields)), values


def fill(data: bytes, values: Mapping[str, str], ext: str) -> bytes | None:
    """The kept file with the version's words in place of the placeholders (XML-escaped, in every XML part, written
    as the library writes its text: openpyxl's workbooks as character references, python-docx's drafts in UTF-8);
    None when a placeholder is left over."""
    encoding = "ascii" if ext == "xlsx" else "utf-8"
    replacements = [
        (token.encode(), escape(text).encode(encoding, "xmlcharrefreplace")) for token, text in values.items()
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            raw = src.read(info)
            if info.filename.endswith((".xml", ".rels")):
                for token, text in replacements:
                    raw = raw.replace(token, text)
                if b"QQ" in raw and any(t.encode() in raw for t in TOKENS.values()):
                    return None
            dst.writestr(info, raw)  # the part's own compression and date, as kept
    return out.getvalue()


def _canonical(value: Any) -> Any:
    """A JSON value that is the same for equal inputs in every process (sets sorted, dataclasses by field)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}]
    if isinstance(value, Mapping):
        return [[_canonical(k), _canonical(v)] for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))]
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, float):
        return repr(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return repr(value)


def inputs_fingerprint(instance: Any, plan: Any) -> str:
    """The instance's and the plan's contents, hashed (once per build: the Nagano plan takes a fraction of a
    second)."""
    blob = json.dumps([_canonical(instance), _canonical(plan)], ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _code_version() -> str:
    """The domain code and the office libraries: the report code and templates are in the renderer's version."""
    import docx
    import openpyxl

    from .doc_cache import renderer_version

    digest = hashlib.sha256(renderer_version().encode())
    domain = Path(__file__).resolve().parent.parent / "domain"
    for path in sorted(domain.rglob("*.py")):  # the optimiser's package too: nothing of the domain is left out
        digest.update(str(path.relative_to(domain)).encode())
        digest.update(path.read_bytes())
    digest.update(f"openpyxl-{openpyxl.__version__}-docx-{getattr(docx, '__version__', '')}".encode())
    return digest.hexdigest()


def office_key(kind: str, ext: str, key: str, inputs: str, meta: ReportMeta) -> str:
    """The key of a workbook or Word draft made with ``meta`` (its tokened form: the same for every version)."""
    blob = json.dumps([_code_version(), kind, ext, key, inputs, _canonical(meta)], ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
