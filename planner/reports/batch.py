"""Many documents of one template in one WeasyPrint layout, written out as one PDF each (the ZIP's bulk work).

A Nagano-sized ZIP holds some 240 one- or two-page notices and statements. Laid out one by one, each pays
WeasyPrint's fixed costs again (parsing, the style cascade of a fresh document, a cold Pango font map); laid out as
one HTML document and split by page, they pay them once. Each document's pages are then written as a PDF of its own
with ``Document.copy(pages)``.

What makes the pages the same as a document rendered alone:

- each document starts on a new page after an empty marker element (``id="batch-doc-<i>"``), which is also how its
  pages are found again (``Page.anchors``);
- the footer's ``n / N ページ`` counts the document's own pages, not the batch's: WeasyPrint's page counters run
  over the whole batch, so while a batch is laid out (and only then, in that thread) the page counters handed to
  the margin boxes are replaced by the page's number within its document and that document's page count;
- the running title (top left) is left out on each document's first page, as ``@page :first`` does alone
  (``string(doc-title, first-except)``: the title is set by the document's heading on its first page);
- the 案 watermark is a fixed box, and WeasyPrint repeats every fixed box on every page of a layout: only the first
  document keeps it, so each page shows exactly one, as alone (a batch's documents share one draft state);
- each PDF gets its own document's title as metadata, and the markers are not written as PDF destinations.

A document the batch cannot place (its marker not found) raises, so a bundle never holds a wrong split.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Any

from . import line_cache, pdf_output
from .render import PROJECT_ROOT

MARKER_PREFIX = "batch-doc-"
WATERMARK = '<div class="watermark" aria-hidden="true">案</div>'
_BODY = re.compile(r"<body>\n?(.*)</body>", re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)

# Only in batch layouts: the running title as @page :first leaves it alone, markers that start a page.
BATCH_CSS = """
@page { @top-left { content: string(doc-title, first-except); } }
.batch-start { display: block; height: 0; margin: 0; padding: 0; border: 0; }
.batch-start.next { break-before: page; }
"""

_local = threading.local()


class BatchError(RuntimeError):
    pass


def batch_html(htmls: Sequence[str]) -> tuple[str, list[str]]:
    """One HTML document of the documents' bodies, each after its marker, and the documents' titles."""
    if not htmls:
        raise BatchError("no documents")
    head = _TITLE.sub("<title></title>", htmls[0].partition("<body>")[0])
    parts, titles = [], []
    for i, html in enumerate(htmls):
        body, title = _BODY.search(html), _TITLE.search(html)
        if body is None or _TITLE.sub("<title></title>", html.partition("<body>")[0]) != head:
            raise BatchError(f"document {i} is not of the batch's template")
        content = body.group(1)
        if i:
            content = content.replace(WATERMARK, "", 1)
        titles.append(_unescape(title.group(1)) if title else "")
        parts.append(f'<div id="{MARKER_PREFIX}{i}" class="batch-start{" next" if i else ""}"></div>\n{content}')
    return f"{head}<body>\n{''.join(parts)}</body>\n</html>\n", titles


def _unescape(text: str) -> str:
    import html

    return html.unescape(text.strip())


@lru_cache(maxsize=1)
def _batch_stylesheet():
    from weasyprint import CSS

    return CSS(string=BATCH_CSS)


def _marker_index(box) -> int | None:
    element = getattr(box, "element", None)
    ident = element.get("id") if element is not None else None
    if ident and ident.startswith(MARKER_PREFIX) and getattr(box, "element_tag", "") == "div":
        return int(ident[len(MARKER_PREFIX) :])
    return None


def _starts_on(page_box) -> list[int]:
    """The markers on a page: they are children of <body>, three levels under the page box."""
    found = []
    stack = [(page_box, 0)]
    while stack:
        box, depth = stack.pop()
        index = _marker_index(box)
        if index is not None:
            found.append(index)
        if depth < 3:
            stack += [(child, depth + 1) for child in getattr(box, "children", ())]
    return found


def page_numbers(starts: Sequence[int], total: int) -> list[tuple[int, int]]:
    """(page within its document, that document's page count) of each page, from the documents' first pages."""
    out: list[tuple[int, int]] = []
    for first, end in pairwise([*starts, total]):
        out += [(p - first + 1, end - first) for p in range(first, end)]
    return out


def _install() -> None:
    """Wrap WeasyPrint's page making so that a batch's footers count each document's pages (see the docstring)."""
    from weasyprint import layout

    if getattr(layout, "_planner_batch_hooks", False):
        return
    make_all_pages, make_margin_boxes = layout.make_all_pages, layout.make_margin_boxes

    def all_pages(context, root_box, html, pages):
        pages = list(make_all_pages(context, root_box, html, pages))
        state = getattr(_local, "state", None)
        if state is not None:
            starts: dict[int, int] = {}
            for number, page in enumerate(pages):
                for index in _starts_on(page):
                    starts.setdefault(index, number)
            state["starts"] = starts
            ordered = [starts.get(i) for i in range(state["count"])]
            if None not in ordered and ordered == sorted(ordered) and (not ordered or ordered[0] == 0):
                state["numbers"] = page_numbers(ordered, len(pages))
            else:
                state["numbers"] = None
        return pages

    def margin_boxes(context, page, state):
        batch = getattr(_local, "state", None)
        numbers = batch and batch.get("numbers")
        if numbers and 0 < context.current_page <= len(numbers):
            number, count = numbers[context.current_page - 1]
            state = copy.deepcopy(state)
            state[1]["page"] = [number]
            state[1]["pages"] = [count]
        return make_margin_boxes(context, page, state)

    layout.make_all_pages = all_pages
    layout.make_margin_boxes = margin_boxes
    layout._planner_batch_hooks = True


def _lay_out(htmls: Sequence[str], stylesheets: Sequence, font_config) -> tuple[Any, list[int], list[str]]:
    """The batch laid out: WeasyPrint's document, the first page of each document (and the page count last), and
    the documents' titles. BatchError when the documents are not found in order on its pages."""
    from weasyprint import HTML

    _install()
    line_cache.install()
    source, titles = batch_html(htmls)
    line_cache.enable(font_config)
    _local.state = {"count": len(htmls)}
    try:
        document = HTML(string=source, base_url=str(PROJECT_ROOT)).render(
            stylesheets=[*stylesheets, _batch_stylesheet()], font_config=font_config
        )
        state = _local.state
    finally:
        _local.state = None
    if not state.get("numbers"):
        missing = sorted(set(range(len(htmls))) - set(state.get("starts", {})))
        raise BatchError(f"documents not found in order on the batch's pages (missing: {missing})")
    starts = [state["starts"][i] for i in range(len(htmls))] + [len(document.pages)]
    return document, starts, titles


def render_one_pdf(htmls: Sequence[str], stylesheets: Sequence, font_config=None) -> tuple[bytes, list[int]]:
    """The documents laid out together and written as one PDF (each page's footer counts its own document's pages),
    with the first page of each document and the page count last: for pages that are only drawn over others
    (planner.reports.stamp), where one PDF to read costs less than one PDF a document."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    pdf_output.install()
    if font_config is None:
        font_config = FontConfiguration()
    if len(htmls) == 1:
        alone = HTML(string=htmls[0], base_url=str(PROJECT_ROOT)).render(
            stylesheets=list(stylesheets), font_config=font_config
        )
        return alone.write_pdf(), [0, len(alone.pages)]
    document, starts, _ = _lay_out(htmls, stylesheets, font_config)
    for page in document.pages:
        for name in [a for a in page.anchors if a.startswith(MARKER_PREFIX)]:
            del page.anchors[name]
    with pdf_output.font_files_once(font_config):
        return document.write_pdf(), starts


def render_pdfs(
    htmls: Sequence[str],
    stylesheets: Sequence,
    font_config=None,
    inspect: Callable[[Sequence[Any]], Any] | None = None,
    inspected: list | None = None,
) -> list[bytes]:
    """One PDF per HTML document, laid out together (documents of one template and one draft state).

    ``font_config``: a WeasyPrint ``FontConfiguration`` kept for many batches, by a render worker (one thread);
    with it, the batches share the loaded fonts, the remembered line splits and the prepared font faces. By default
    the batch has one of its own. With ``inspect``, ``inspected`` gets ``inspect(pages)`` of each document's laid-out
    pages, in order (planner.reports.stamp reads where its slots landed).
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    pdf_output.install()
    if len(htmls) == 1:
        if inspect is None:
            return [
                HTML(string=htmls[0], base_url=str(PROJECT_ROOT)).write_pdf(
                    stylesheets=list(stylesheets), font_config=font_config
                )
            ]
        alone = HTML(string=htmls[0], base_url=str(PROJECT_ROOT)).render(
            stylesheets=list(stylesheets), font_config=font_config
        )
        if inspected is not None:
            inspected.append(inspect(alone.pages))
        return [alone.write_pdf()]
    if font_config is None:
        font_config = FontConfiguration()
    document, starts, titles = _lay_out(htmls, stylesheets, font_config)
    out = []
    with pdf_output.font_files_once(font_config):
        for i, title in enumerate(titles):
            pages = document.pages[starts[i] : starts[i + 1]]
            if inspect is not None and inspected is not None:
                inspected.append(inspect(pages))
            for page in pages:
                for name in [a for a in page.anchors if a.startswith(MARKER_PREFIX)]:
                    del page.anchors[name]
            part = document.copy(pages)
            part.metadata = copy.copy(document.metadata)
            part.metadata.title = title
            out.append(part.write_pdf())
    return out
