"""A document's version stamp, drawn over a body laid out once (issue #31: version 2 of a plan laid out every PDF
again, because every page prints the version's 文書番号, 計画 No. 第N版 and 発行日).

The templates mark what belongs to the version rather than to the document's content: ``<span class="stamp"
data-stamp="number|plan|date">`` (the control block's 文書番号・計画・発行日, the 算定書's date under its seal). A
build then lays out two things:

- the **body**: the document's HTML with each stamp replaced by an empty slot of the same kind and about the same
  width (``split``), and without the footer's 文書番号. It is laid out once and kept by its HTML's hash
  (planner.reports.doc_cache) with where each slot landed (page, position, font: ``slots_of``);
- the **stamp**: for each page, the stamp texts at their slots' positions in the slots' fonts, and the footer
  (文書番号 and n / N ページ) exactly as the stylesheet prints it. Small pages with a few words: all of a batch's
  stamps are laid out together, in a fraction of a body's time.

Each stamp page is drawn over its body page (pypdf). A document whose version changed but whose content did not
is a cache hit plus a stamp; what the document says is the same as when it is laid out whole. If anything in the
stamping fails (pages that do not match), the caller lays the document out whole instead.
"""

from __future__ import annotations

import html as html_lib
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# The control block's labels whose values are the version's (planner.reports.control.DocumentControl.lines)
STAMPED_LABELS = {"文書番号": "number", "計画": "plan", "発行日": "date"}
STAMP = re.compile(r'<span class="stamp" data-stamp="(number|plan|date)">(.*?)</span>', re.S)
SLOT_CLASS = "stamp-slot"
SLOT_EM = 2  # slot widths are rounded up to this many em: 第1版 and 第2版, 公表中 and 旧版 leave the body the same

# Only in a body's layout: the slots keep their room and show nothing; the footer's 文書番号 is the stamp's.
BODY_CSS = f"""
.{SLOT_CLASS} {{ display: inline-block; visibility: hidden; white-space: nowrap; }}
@page {{ @bottom-right {{ content: none; }} }}
"""
# Only in a stamp's layout: the running heads and the plan's name are the body's; the pages are transparent.
STAMP_CSS = """
@page { @top-left { content: none; } @top-right { content: none; } @bottom-left { content: none; } }
html, body { background: none; }
.stamp-page { position: relative; margin: 0; padding: 0; }
.stamp-page.next { break-before: page; }
.stamp-number { string-set: doc-number content(); display: block; height: 0; visibility: hidden; }
.stamp-text { position: absolute; white-space: nowrap; margin: 0; padding: 0; }
"""
STAMP_HEAD = '<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n<title></title>\n</head>\n'


@dataclass(frozen=True)
class Split:
    body: str  # the HTML without the version's texts (the cache key)
    values: tuple[str, ...]  # the stamp texts in slot order, HTML-escaped as the template wrote them
    number: str  # the 文書番号 the footer prints (plain text)


def split(html: str) -> Split:
    values: list[str] = []
    number = ""

    def slot(m: re.Match) -> str:
        nonlocal number
        kind, text = m.group(1), m.group(2)
        if kind == "number" and not number:
            number = html_lib.unescape(text)
        values.append(text)
        width = SLOT_EM * math.ceil(_ems(html_lib.unescape(text)) / SLOT_EM)
        return f'<span class="{SLOT_CLASS}" data-slot="{len(values) - 1}" style="width: {width}em">\u3000</span>'

    body = STAMP.sub(slot, html)
    return Split(body, tuple(values), number)


def _ems(text: str) -> float:
    """A generous width of ``text`` in em: full-width characters 1 em, the others (IPAex's proportional Latin and
    digits) at most 0.62 em."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.62 for ch in text) + 0.2


def slots_of(pages: Sequence[Any]) -> list[dict[str, Any]]:
    """For each laid-out page (WeasyPrint's): its content area and the slots on it, in CSS px from the content
    area's top left, with the font the text is drawn in."""
    out = []
    for page in pages:
        box = page._page_box
        cx, cy = box.content_box_x(), box.content_box_y()
        slots: list[dict[str, Any]] = []
        stack = [box]
        while stack:
            b = stack.pop()
            element = getattr(b, "element", None)
            if (
                element is not None
                and type(b).__name__ == "InlineBlockBox"
                and element.get("data-slot") is not None
                and SLOT_CLASS in (element.get("class") or "")
            ):
                style = b.style
                slots.append(
                    {
                        "slot": int(element.get("data-slot")),
                        "x": b.content_box_x() - cx,
                        "y": b.content_box_y() - cy,
                        "height": b.height,
                        "size": style["font_size"],
                        "family": list(style["font_family"]),
                        "weight": int(style["font_weight"]),
                        "colour": _colour(style["color"]),
                    }
                )
            stack.extend(getattr(b, "children", ()))
        out.append({"slots": sorted(slots, key=lambda s: s["slot"])})
    return out


def _colour(colour: Any) -> str:
    try:
        r, g, b = colour.to("srgb").coordinates
        a = colour.alpha
        return f"rgba({round(r * 255)}, {round(g * 255)}, {round(b * 255)}, {a})"
    except (AttributeError, TypeError, ValueError):
        return "#111"


def stamp_html(split_doc: Split, pages: Sequence[dict[str, Any]]) -> str:
    """The stamp of one document: as many pages as its body, each with its slots' texts where the slots are."""
    parts = [STAMP_HEAD, "<body>\n"]
    for i, page in enumerate(pages):
        parts.append(f'<div class="stamp-page{" next" if i else ""}">')
        if i == 0:
            parts.append(f'<span class="stamp-number">{html_lib.escape(split_doc.number)}</span>')
        for s in page["slots"]:
            if s["slot"] >= len(split_doc.values):
                raise ValueError("a slot without its text")
            family = ", ".join(f"'{f}'" for f in s["family"])
            parts.append(
                f'<span class="stamp-text" style="left: {s["x"]:.3f}px; top: {s["y"]:.3f}px; '
                f"height: {s['height']:.3f}px; line-height: {s['height']:.3f}px; font-size: {s['size']:.3f}px; "
                f'font-family: {family}; font-weight: {s["weight"]}; color: {s["colour"]}">'
                f"{split_doc.values[s['slot']]}</span>"
            )
        parts.append("</div>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


@lru_cache(maxsize=1)
def body_stylesheet():
    from weasyprint import CSS

    return CSS(string=BODY_CSS)


@lru_cache(maxsize=1)
def stamp_stylesheet():
    from weasyprint import CSS

    return CSS(string=STAMP_CSS)


STAMP_NAME = "/PlannerStamp"


def merge(body_pdf: bytes, stamp_pages: Sequence[Any]) -> bytes:
    """Each stamp page (pypdf's) drawn over its body page; ValueError when their pages do not match.

    The stamp page becomes a form XObject that a short content stream draws after the body's own, which is wrapped
    in q … Q: neither page's content is parsed or rewritten. (pypdf's ``merge_page`` parses both pages' content
    into operators to rename their resources: three quarters of a version 2's stamping time went there.)"""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter(clone_from=io.BytesIO(body_pdf))
    if len(stamp_pages) != len(writer.pages):
        raise ValueError(f"stamp of {len(stamp_pages)} pages over a body of {len(writer.pages)}")

    def stream(data: bytes) -> Any:
        s = DecodedStreamObject()
        s.set_data(data)
        return writer._add_object(s)

    before = stream(b"q\n")
    for number, (page, over) in enumerate(zip(writer.pages, stamp_pages, strict=True)):
        # one name a page: WeasyPrint's pages may share one resource dictionary
        name = f"{STAMP_NAME}{number}"
        contents = over.get("/Contents")
        parts = [] if contents is None else contents.get_object()
        parts = parts if isinstance(parts, list) else [parts]
        form = DecodedStreamObject()
        form.set_data(b"\n".join(part.get_object().get_data() for part in parts))
        form[NameObject("/Type")] = NameObject("/XObject")
        form[NameObject("/Subtype")] = NameObject("/Form")
        form[NameObject("/BBox")] = over.mediabox
        resources = over.get("/Resources")
        form[NameObject("/Resources")] = (
            DictionaryObject() if resources is None else resources.get_object().clone(writer)
        )
        drawn = writer._add_object(form.flate_encode())
        page_resources: Any = page.get("/Resources")
        if page_resources is None:
            page_resources = DictionaryObject()
            page[NameObject("/Resources")] = page_resources
        page_resources = page_resources.get_object()
        xobjects: Any = page_resources.get("/XObject")
        if xobjects is None:
            xobjects = DictionaryObject()
            page_resources[NameObject("/XObject")] = xobjects
        xobjects.get_object()[NameObject(name)] = drawn
        own = page.get("/Contents")
        own_parts = [] if own is None else (list(own.get_object()) if isinstance(own.get_object(), list) else [own])
        after = stream(f"Q\nq {name} Do Q\n".encode())
        page[NameObject("/Contents")] = ArrayObject([before, *own_parts, after])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
