"""Line splits remembered within a batch (planner.reports.line_cache) change no byte of any document."""

import pytest
from weasyprint import HTML
from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline
from weasyprint.text.fonts import FontConfiguration

from planner.reports import batch, bundle, line_cache, pdf, statements
from planner.reports.render import PROJECT_ROOT

from .bigplan import thirty_member_setting
from .fixtures import nagano_instance, nagano_plan


def render_both(htmls, monkeypatch):
    """The batch's PDFs with the cache, then without it (``enable`` made a no-op)."""
    remembered = batch.render_pdfs(htmls, [pdf._stylesheet()])
    with monkeypatch.context() as m:
        m.setattr(line_cache, "enable", lambda font_config: None)
        computed = batch.render_pdfs(htmls, [pdf._stylesheet()])
    return remembered, computed


def test_notices_and_a_four_page_group_are_the_same_bytes_with_and_without_the_cache(monkeypatch):
    instance, plan = thirty_member_setting()
    members = plan.groups[0].members
    notices = [pdf.member_html(instance, plan, n) for n in members[:6]]
    remembered, computed = render_both(notices, monkeypatch)
    assert remembered == computed
    remembered, computed = render_both([pdf.group_html(instance, plan, "ocr-big")] * 2, monkeypatch)
    assert remembered == computed


def test_statements_are_the_same_bytes_with_and_without_the_cache(monkeypatch):
    instance = nagano_instance()
    plan = nagano_plan(instance)
    bodies = [d.key for d in bundle.plan_documents(plan, instance) if d.kind == "statement"][:5]
    htmls = [statements.statement_html(statements.statement_view(instance, plan, code)) for code in bodies]
    remembered, computed = render_both(htmls, monkeypatch)
    assert remembered == computed


def first_text_box(html: str, font_config: FontConfiguration):
    document = HTML(string=html, base_url=str(PROJECT_ROOT)).render(font_config=font_config)
    stack = [document.pages[0]._page_box]
    while stack:
        box = stack.pop()
        if isinstance(box, boxes.TextBox):
            return box
        stack += list(getattr(box, "children", ()))
    raise AssertionError("no text")


def test_a_repeat_is_answered_from_the_cache_with_a_layout_of_its_own():
    line_cache.install()
    font_config = FontConfiguration()
    line_cache.enable(font_config)
    box = first_text_box("<p>共同調達に関する協定書（案）の条項を編集してください。</p>", font_config)
    cache = getattr(font_config, line_cache.CACHE_ATTRIBUTE)
    asked = len(cache)
    assert asked >= 1  # the layout itself went through the cache

    first = inline.split_first_line(box.text, box.style, None, 80.0, 0)
    second = inline.split_first_line(box.text, box.style, None, 80.0, 0)
    assert len(cache) == asked + 1  # one new question, asked twice
    assert first[1:] == second[1:] and first[2] is not None  # the same split (80 px: the text wraps)
    assert first[0] is not second[0] and first[0].text == second[0].text  # each box its own layout object

    wider = inline.split_first_line(box.text, box.style, None, 800.0, 0)
    assert len(cache) == asked + 2 and wider[2] is None  # another width is another question


def test_layouts_without_a_cache_are_left_alone():
    line_cache.install()
    font_config = FontConfiguration()  # not enabled: a single document, or the web's own renders
    box = first_text_box("<p>負担額通知</p>", font_config)
    assert not hasattr(font_config, line_cache.CACHE_ATTRIBUTE)
    layout, _, resume, *_ = inline.split_first_line(box.text, box.style, None, 800.0, 0)
    assert resume is None and layout.text == box.text


@pytest.mark.parametrize("value", [["a", ["b"]], ("a", ("b", ["c"]))])
def test_list_values_become_keys(value):
    assert hash(line_cache._hashable(value)) is not None
