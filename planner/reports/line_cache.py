"""Line splits remembered within one batch layout: the same strings are broken into lines once, not once a document.

A batch of notices or statements (planner.reports.batch) lays out the same headings, table labels and notes in the
same style and width in every document: in a batch of 20 notices, 5,983 calls of WeasyPrint's ``split_first_line``
asked 1,022 different questions, and the repeats were an eighth of the batch's CPU time. This wraps that function
so that, in a layout whose font configuration carries a cache (``enable``), each answer is computed once.

Why the answer can be reused exactly:

- it is a function of the text, the available width, the justification spacing, the two flags, the font
  configuration (the cache lives on it, so it dies with the batch, or with the render worker that keeps it) and the
  style properties the function and its helpers read (``LAYOUT_PROPERTIES``, read off WeasyPrint 70's
  text/line_break.py and text/fonts.py; pyproject.toml bounds the version, and tests/reports/test_line_cache.py
  compares whole PDFs, byte for byte, with and without the cache);
- the layout object it returns is already deactivated: it keeps its text and widths but no Pango objects, which
  drawing makes again from the box's own style (``Layout.reactivate``). A repeat gets a copy of it, so that a
  document changing one box's layout (an ellipsis when drawing) does not change another's.
"""

from __future__ import annotations

import copy
from typing import Any

CACHE_ATTRIBUTE = "planner_line_cache"
STYLE_KEY_ATTRIBUTE = "planner_line_key"

LAYOUT_PROPERTIES = (
    "white_space",
    "font_size",
    "font_family",
    "font_style",
    "font_stretch",
    "font_weight",
    "font_variation_settings",
    "font_language_override",
    "lang",
    "direction",
    "text_decoration_line",
    "font_kerning",
    "font_variant_ligatures",
    "font_variant_position",
    "font_variant_caps",
    "font_variant_numeric",
    "font_variant_alternates",
    "font_variant_east_asian",
    "font_feature_settings",
    "word_spacing",
    "letter_spacing",
    "overflow_wrap",
    "word_break",
    "tab_size",
    "hyphens",
    "hyphenate_character",
    "hyphenate_limit_chars",
    "hyphenate_limit_zone",
)


def enable(font_config: Any) -> None:
    """Remember line splits in layouts made with ``font_config`` (a batch's, or a render worker's for all its
    batches); what it remembers already is kept."""
    if getattr(font_config, CACHE_ATTRIBUTE, None) is None:
        setattr(font_config, CACHE_ATTRIBUTE, {})


def _style_key(style: Any) -> tuple:
    """The style's values of ``LAYOUT_PROPERTIES``, made once per style object (a paragraph asks once a line)."""
    key = getattr(style, STYLE_KEY_ATTRIBUTE, None)
    if key is None:
        key = tuple(_hashable(style[name]) for name in LAYOUT_PROPERTIES)
        setattr(style, STYLE_KEY_ATTRIBUTE, key)
    return key


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


def install() -> None:
    """Wrap WeasyPrint's ``split_first_line`` where the line layout calls it (idempotent)."""
    from weasyprint.layout import inline, preferred

    if getattr(inline, "_planner_line_cache", False):
        return
    split_first_line = inline.split_first_line

    def remembered(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
        cache = getattr(style.font_config, CACHE_ATTRIBUTE, None)
        if cache is None:
            return split_first_line(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        try:
            key = (text, max_width, justification_spacing, is_line_start, minimum, _style_key(style))
            found = cache.get(key)
        except TypeError:  # a property value that cannot be a key: no reuse, same answer
            return split_first_line(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        if found is None:
            found = cache[key] = split_first_line(
                text, style, context, max_width, justification_spacing, is_line_start, minimum
            )
        layout, *rest = found
        return (copy.copy(layout), *rest)

    # Both the line layout and the content widths of table cells (preferred) ask it.
    inline.split_first_line = preferred.split_first_line = remembered
    inline._planner_line_cache = True
