"""Writing a batch's PDFs one per document: three costs every PDF repeats, made smaller.

Measured on 20 of the demo's notices written from one batch (bench/README.md), of 4.3 s in all:

- **Font files.** For every PDF, WeasyPrint's ``Font`` copies the whole font file out of HarfBuzz (IPAex: several MB
  a face, two or three faces a document) and then subsets it, which reads the face, not the copy: 0.28 s, 6 %.
  While a batch writes its PDFs (``font_files_once``), a face's data is copied once and the same bytes object is
  handed to every ``Font`` of that face (``Font`` never changes it: subsetting replaces ``file_content``).
- **Subsetting.** Each PDF embeds only the glyphs it uses: WeasyPrint asks HarfBuzz to subset the whole face (IPAex:
  some 12,000 glyphs) for every font of every PDF, 5.6 % of a batch of notices. HarfBuzz can prepare a face once for
  many subsets (``hb_subset_preprocess``, HarfBuzz 6.0 and newer); while ``font_files_once`` runs, WeasyPrint
  subsets from a prepared copy of the face, made once, with the same bytes out. Preparing costs about what one
  batch's subsets save: it pays when the faces outlive the batch, in a render worker's one font configuration.
- **Compression.** pydyf deflates every stream at zlib level 9: 0.29 s, 7 %. Level 6, zlib's default, took 0.12 s
  for PDFs 0.8 % larger (1.621 MB against 1.608 MB); ``install`` makes pydyf ask for level 6 instead.

They change how the same PDF is written, not what it shows: tests/reports/test_pdf_output.py compares the bytes
(subsetting, sharing the font files) and the decoded pages (compression).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

COMPRESSION_LEVEL = 6
STORE_ATTRIBUTE = "planner_font_files"
# The names WeasyPrint tries for HarfBuzz-Subset (weasyprint/text/ffi.py), Linux's first.
SUBSET_LIBRARIES = (
    "libharfbuzz-subset.so.0",
    "libharfbuzz-subset.0.dylib",
    "libharfbuzz-subset-0.dll",
    "harfbuzz-subset",
)

_local = threading.local()


@contextmanager
def font_files_once(font_config: Any = None) -> Iterator[None]:
    """While the block runs (PDFs written in this thread), each font face's data is copied once and each face is
    prepared for subsetting once: for the block, or for as long as ``font_config`` lives if it is given (a render
    worker's, which all its batches share, so that its faces stay the same objects)."""
    if font_config is None:
        store: dict[str, dict] = {"data": {}, "prepared": {}}
    else:
        store = getattr(font_config, STORE_ATTRIBUTE, None) or {"data": {}, "prepared": {}}
        setattr(font_config, STORE_ATTRIBUTE, store)
    previous = getattr(_local, "store", None)
    _local.store = store
    try:
        yield
    finally:
        _local.store = previous


def _once_per_face(store: dict[str, dict], table: str, hb_face: Any, make: Any) -> Any:
    """``make(hb_face)``, made once per face for ``store``'s life and found by the face's address. The entry holds a
    reference to the face: while it is kept, no other face can take that address."""
    from weasyprint.text.ffi import ffi, harfbuzz

    pointer = int(ffi.cast("uintptr_t", hb_face))
    found = store[table].get(pointer)
    if found is None:
        held = ffi.gc(harfbuzz.hb_face_reference(hb_face), harfbuzz.hb_face_destroy)
        found = store[table][pointer] = (held, make(hb_face))
    return found[1]


def _compressobj(level: int = COMPRESSION_LEVEL, *args: Any, **kwargs: Any) -> Any:
    return zlib.compressobj(min(level, COMPRESSION_LEVEL), *args, **kwargs)


@lru_cache(maxsize=1)
def _preprocess() -> Any:
    """HarfBuzz-Subset's ``hb_subset_preprocess``, declared on WeasyPrint's own FFI types; None where it is missing."""
    import cffi
    from weasyprint.text.ffi import ffi

    own = cffi.FFI()
    own.include(ffi)
    own.cdef("hb_face_t * hb_subset_preprocess (hb_face_t *source);")
    for name in SUBSET_LIBRARIES:
        try:
            return own.dlopen(name).hb_subset_preprocess
        except (OSError, AttributeError):  # no such library here, or a HarfBuzz older than 6.0
            continue
    return None


def prepared_face(hb_face: Any) -> Any:
    """``hb_face`` prepared for subsetting, made once while ``font_files_once`` runs; None outside it or if missing."""
    from weasyprint.text.ffi import ffi, harfbuzz

    store = getattr(_local, "store", None)
    preprocess = _preprocess()
    if store is None or preprocess is None:
        return None

    def prepare(face: Any) -> Any:
        made = preprocess(face)
        return None if made == ffi.NULL else ffi.gc(made, harfbuzz.hb_face_destroy)

    return _once_per_face(store, "prepared", hb_face, prepare)


def install() -> None:
    """Patch pydyf's compression level and WeasyPrint's font objects (idempotent)."""
    import pydyf
    from weasyprint.pdf import fonts

    if getattr(fonts, "_planner_pdf_output", False):
        return
    # pydyf's own name for zlib: nothing else in the process is affected.
    pydyf.zlib = SimpleNamespace(compress=zlib.compress, compressobj=_compressobj)

    face_data = fonts.get_hb_object_data
    font_init = fonts.Font.__init__

    def remembered_face_data(hb_object, ot_color=None, glyph=None):
        store = getattr(_local, "store", None)
        if store is None or ot_color is not None or not getattr(_local, "in_font_init", False):
            return face_data(hb_object, ot_color, glyph)
        return _once_per_face(store, "data", hb_object, face_data)

    def font_with_remembered_face(self, *args, **kwargs):
        # Only the copy of the whole face in the constructor is shared; the subset's data (read later, in
        # Font.subset) is each PDF's own.
        _local.in_font_init = True
        try:
            font_init(self, *args, **kwargs)
        finally:
            _local.in_font_init = False

    subset = fonts.Font._harfbuzz_subset

    def subset_from_prepared_face(self, to_unicode, hinting):
        # WeasyPrint reads ``hb_face`` in its first subset only, from the face: the prepared copy has the same
        # tables, so the same glyphs come out (tests/reports/test_pdf_output.py compares the bytes).
        prepared = prepared_face(self.hb_face)
        if prepared is None:
            return subset(self, to_unicode, hinting)
        face = self.hb_face
        self.hb_face = prepared
        try:
            return subset(self, to_unicode, hinting)
        finally:
            self.hb_face = face

    fonts.get_hb_object_data = remembered_face_data
    fonts.Font.__init__ = font_with_remembered_face
    fonts.Font._harfbuzz_subset = subset_from_prepared_face
    fonts._planner_pdf_output = True
