"""Writing a batch's PDFs one per document: two costs every PDF repeats, made smaller.

Measured on 20 of the demo's notices written from one batch (bench/README.md), of 4.3 s in all:

- **Font files.** For every PDF, WeasyPrint's ``Font`` copies the whole font file out of HarfBuzz (IPAex: several MB
  a face, two or three faces a document) and then subsets it, which reads the face, not the copy: 0.28 s, 6 %.
  While a batch writes its PDFs (``font_files_once``), a face's data is copied once and the same bytes object is
  handed to every ``Font`` of that face (``Font`` never changes it: subsetting replaces ``file_content``).
- **Compression.** pydyf deflates every stream at zlib level 9: 0.29 s, 7 %. Level 6, zlib's default, took 0.12 s
  for PDFs 0.8 % larger (1.621 MB against 1.608 MB); ``install`` makes pydyf ask for level 6 instead.

Both only change how the same PDF is written, not what it shows; tests/reports/test_pdf_output.py compares pages.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

COMPRESSION_LEVEL = 6

_local = threading.local()


@contextmanager
def font_files_once() -> Iterator[None]:
    """While the block runs (one batch's PDFs, in this thread), each font face's data is copied once."""
    _local.faces = {}
    try:
        yield
    finally:
        _local.faces = None


def _compressobj(level: int = COMPRESSION_LEVEL, *args: Any, **kwargs: Any) -> Any:
    return zlib.compressobj(min(level, COMPRESSION_LEVEL), *args, **kwargs)


def install() -> None:
    """Patch pydyf's compression level and WeasyPrint's font objects (idempotent)."""
    import pydyf
    from weasyprint.pdf import fonts
    from weasyprint.text.ffi import ffi

    if getattr(fonts, "_planner_pdf_output", False):
        return
    # pydyf's own name for zlib: nothing else in the process is affected.
    pydyf.zlib = SimpleNamespace(compress=zlib.compress, compressobj=_compressobj)

    face_data = fonts.get_hb_object_data
    font_init = fonts.Font.__init__

    def remembered_face_data(hb_object, ot_color=None, glyph=None):
        faces = getattr(_local, "faces", None)
        if faces is None or ot_color is not None or not getattr(_local, "in_font_init", False):
            return face_data(hb_object, ot_color, glyph)
        key = int(ffi.cast("uintptr_t", hb_object))
        found = faces.get(key)
        if found is None:
            # The entry holds a reference to the face: while the batch writes, no other face can take its address.
            found = faces[key] = (hb_object, face_data(hb_object))
        return found[1]

    def font_with_remembered_face(self, *args, **kwargs):
        # Only the copy of the whole face in the constructor is shared; the subset's data (read later, in
        # Font.subset) is each PDF's own.
        _local.in_font_init = True
        try:
            font_init(self, *args, **kwargs)
        finally:
            _local.in_font_init = False

    fonts.get_hb_object_data = remembered_face_data
    fonts.Font.__init__ = font_with_remembered_face
    fonts._planner_pdf_output = True
