"""A streaming check of an .xlsx file's parts before openpyxl reads any of them (issue #30).

openpyxl's cost grows with what a part holds, not with the file's size: a 15 KB workbook can declare 60,000 cell
formats, an 85 KB one two million shared strings, a 300 KB one a single 300 MB cell. Every part is read here once,
in 1 MB chunks, checking the declared sizes first (zipfile never inflates a part past its declared size) and then
counting what openpyxl would have to build, so a file past any limit is refused in well under a second with a
message naming what is too large. Each XML part also goes through expat, which accepts no DTD here: entity
declarations (external entities, entity-expansion bombs) are refused outright, and a broken part is named with
its line and column.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.parsers import expat

from .errors import FileProblems, Problem, too_many_rows

MB = 1 << 20
MAX_PARTS = 500
MAX_PART_BYTES = 40 * MB  # a 20,000-row needs sheet of ten text columns is 12 MB of XML
MAX_SMALL_PART_BYTES = 5 * MB  # styles, workbook, relationships, theme: kilobytes in any real file
MAX_TOTAL_BYTES = 80 * MB
MAX_CELLS = 300_000  # the needs import's 20,000 rows of ten columns, with room; MIC's files hold ~60,000
MAX_SHARED_STRINGS = 100_000
MAX_COLUMN_DEFINITIONS = 1_024  # per sheet; Excel writes one <col> per run of equally wide columns
MAX_TEXT_BYTES = 256 * 1024  # one cell's text: Excel holds 32,767 characters, at most 4 bytes each (+ escapes)
# Styles openpyxl builds one object (and, for cell formats, an index) for each of; Excel's own user interface
# stops at 64,000 cell formats and a few hundred fonts in real workbooks.
MAX_STYLES = {
    "xf": ("セルの書式", 8_000),
    "font": ("フォント", 1_024),
    "fill": ("塗りつぶし", 1_024),
    "border": ("罫線", 1_024),
    "numFmt": ("表示形式", 1_024),
    "dxf": ("条件付き書式の書式", 1_024),
    "cellStyle": ("スタイル", 1_024),
}

_LARGE_PARTS = re.compile(r"xl/(worksheets/[^/]+|sharedStrings)\.xml")
_XML_PART = re.compile(r".*\.(xml|rels|vml)", re.IGNORECASE)
_P = rb"<(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix
_SHEET_TAG = re.compile(_P + rb"(row|c|col)[\s>/]")
_SI = re.compile(_P + rb"si[\s>/]")
_STYLE = re.compile(_P + rb"(xf|font|fill|border|numFmt|dxf|cellStyle)[\s>/]")


class ScanLimit(FileProblems):
    """The workbook is past one of the limits above (not broken, just too costly to read)."""


@dataclass
class _Counts:
    cells: int = 0
    shared_strings: int = 0
    styles: dict[str, int] = field(default_factory=dict)


def _problem(file_name: str, message: str) -> ScanLimit:
    return ScanLimit([Problem(file_name, message)])


def broken(file_name: str, detail: str = "") -> FileProblems:
    suffix = f": {detail}" if detail else ""
    return FileProblems(
        [Problem(file_name, f"Excel（.xlsx）ファイルとして読めません（ファイルが壊れています{suffix}）")]
    )


def scan_xlsx(file_name: str, archive: zipfile.ZipFile, *, max_rows: int) -> None:
    """FileProblems naming the first limit passed or the first broken part; nothing when openpyxl may read it."""
    infos = archive.infolist()
    if len(infos) > MAX_PARTS:
        raise _problem(file_name, f"Excel ファイルの中の部品が多すぎます（{len(infos):,}個、上限 {MAX_PARTS:,}個）")
    total = 0
    for info in infos:
        limit = MAX_PART_BYTES if _LARGE_PARTS.fullmatch(info.filename) else MAX_SMALL_PART_BYTES
        if info.file_size > limit:
            raise _problem(
                file_name,
                f"Excel ファイルの中の「{info.filename}」が展開すると大きすぎます"
                f"（{info.file_size / MB:,.1f} MB、上限 {limit // MB} MB）",
            )
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise _problem(
            file_name,
            f"Excel ファイルが展開すると大きすぎます（{total / MB:,.1f} MB、上限 {MAX_TOTAL_BYTES // MB} MB）",
        )
    counts = _Counts()
    for info in infos:
        if _XML_PART.fullmatch(info.filename) and not info.is_dir():
            try:
                _scan_part(file_name, archive, info, counts, max_rows)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
                raise broken(file_name, info.filename) from e


def _scan_part(file_name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, counts: _Counts, max_rows: int) -> None:
    name = info.filename
    sheet = name.startswith("xl/worksheets/")
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    rows = columns = run = 0  # run: bytes of text since the last tag boundary, carried across chunks
    carry = b""
    with archive.open(info) as part:
        while chunk := part.read(MB):
            try:
                parser.Parse(chunk, False)
            except _Doctype as e:
                raise _problem(
                    file_name,
                    f"Excel ファイルの「{name}」に DTD・実体の宣言（<!DOCTYPE>・<!ENTITY>）があります。安全のため"
                    "読み込みません。Excel で .xlsx として保存し直したファイルを指定してください",
                ) from e
            except expat.ExpatError as e:
                raise broken(file_name, f"{name} の {e.lineno}行 {e.offset + 1}文字目") from e
            run = _check_text_runs(file_name, name, chunk, run)
            # counted up to the last "<" only, so that a tag split between two chunks is counted once, whole
            cut = chunk.rfind(b"<")
            block, carry = (carry + chunk, b"") if cut < 0 else (carry + chunk[:cut], chunk[cut:])
            if sheet:
                tags = _SHEET_TAG.findall(block)
                rows += tags.count(b"row")
                counts.cells += tags.count(b"c")
                columns += tags.count(b"col")
                if rows > max_rows:
                    raise too_many_rows(file_name, None, max_rows)
                if counts.cells > MAX_CELLS:
                    raise _problem(
                        file_name, f"セルが多すぎます（{MAX_CELLS:,}個を超えています）。ファイルを分けてください"
                    )
                if columns > MAX_COLUMN_DEFINITIONS:
                    raise _problem(
                        file_name,
                        f"「{name}」の列の定義が多すぎます（{MAX_COLUMN_DEFINITIONS:,}個を超えています）",
                    )
            elif name == "xl/sharedStrings.xml":
                counts.shared_strings += len(_SI.findall(block))
                if counts.shared_strings > MAX_SHARED_STRINGS:
                    raise _problem(
                        file_name,
                        f"共有文字列（セルの文字列）が多すぎます（{MAX_SHARED_STRINGS:,}個を超えています）",
                    )
            elif name == "xl/styles.xml":
                for kind in _STYLE.findall(block):
                    key = kind.decode()
                    counts.styles[key] = counts.styles.get(key, 0) + 1
                for key, (label, limit) in MAX_STYLES.items():
                    if counts.styles.get(key, 0) > limit:
                        raise _problem(file_name, f"{label}の数が多すぎます（{limit:,}個を超えています）")
        try:
            parser.Parse(b"", True)
        except expat.ExpatError as e:
            raise broken(file_name, f"{name} の {e.lineno}行 {e.offset + 1}文字目") from e


class _Doctype(Exception):
    pass


def _refuse_doctype(*_args: object) -> None:
    raise _Doctype


def _check_text_runs(file_name: str, name: str, chunk: bytes, run: int) -> int:
    """The length of text since the last "<" or ">" at the end of ``chunk`` (``run`` at its start); refused past
    MAX_TEXT_BYTES (one huge cell or attribute). Jumps from one boundary to the last one within reach, so a chunk
    costs a few rfind calls instead of a pass per tag."""
    last = -1 - run  # where the last boundary was, relative to the chunk
    size = len(chunk)
    while True:
        low, high = max(last + 1, 0), min(last + MAX_TEXT_BYTES + 2, size)
        found = max(chunk.rfind(b"<", low, high), chunk.rfind(b">", low, high))
        if found >= 0:
            last = found
            continue
        if last + MAX_TEXT_BYTES + 2 <= size:
            raise _problem(
                file_name,
                f"「{name}」に長すぎる文字列があります（{MAX_TEXT_BYTES // 1024:,} KB を超えています。"
                "Excel のセルは 32,767 文字まで）",
            )
        return size - 1 - last
