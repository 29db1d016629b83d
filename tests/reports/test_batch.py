"""Documents laid out together and written one PDF each: every document gets exactly its own pages, its own
document number, footer and title, the same as when it is rendered alone."""

import dataclasses
import io
import re
import zipfile

import pypdf
import pytest

from planner.reports import batch, bundle, pdf
from planner.reports.control import draft_control

from .bigplan import thirty_member_setting
from .fixtures import nagano_instance, nagano_plan
from .helpers import pdf_pages, pdf_text


def page_texts(data: bytes) -> list[str]:
    return [re.sub(r"\s+", "", p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_page_numbers_count_each_document_from_its_first_page():
    assert batch.page_numbers([0, 4, 5], 7) == [(1, 4), (2, 4), (3, 4), (4, 4), (1, 1), (1, 2), (2, 2)]
    assert batch.page_numbers([0], 1) == [(1, 1)]


@pytest.fixture(scope="module")
def big():
    instance, plan = thirty_member_setting()
    members = plan.groups[0].members
    htmls = [
        pdf.member_html(instance, plan, members[3]),
        pdf.group_html(instance, plan, "ocr-big"),  # four pages, in the middle of the batch
        pdf.member_html(instance, plan, members[17]),
    ]
    alone = [pdf.html_to_pdf(h) for h in htmls]
    together = batch.render_pdfs(htmls, [pdf._stylesheet()])
    return instance, plan, members, alone, together


def test_each_document_gets_exactly_its_own_pages(big):
    _, _, _, alone, together = big
    assert [pdf_pages(d) for d in together] == [pdf_pages(d) for d in alone] == [1, 4, 1]
    for own, batched in zip(alone, together, strict=True):
        assert page_texts(batched) == page_texts(own)  # same words on the same pages, watermark and footers included


def test_footers_number_the_documents_pages_not_the_batchs(big):
    _, _, _, _, together = big
    group_pages = page_texts(together[1])
    for n, text in enumerate(group_pages, start=1):
        assert f"{n}/4ページ" in text
    assert "1/1ページ" in page_texts(together[0])[0] and "1/1ページ" in page_texts(together[2])[0]
    assert not any("/6ページ" in t for d in together for t in page_texts(d))  # never the batch's count


def test_each_document_carries_its_own_number_and_title(big):
    instance, _, members, _, together = big
    first, last = (instance.need(members[i]).body for i in (3, 17))
    control = draft_control()
    text_first, text_last = pdf_text(together[0]), pdf_text(together[2])
    assert control.number("member", first) in text_first and control.number("member", last) not in text_first
    assert control.number("member", last) in text_last and control.number("member", first) not in text_last
    assert control.number("group", "ocr-big") in pdf_text(together[1])
    titles = [pypdf.PdfReader(io.BytesIO(d)).metadata.title for d in together]
    assert titles[1].startswith("契約予定額（見込）算定書") and titles[0].startswith(
        "契約予定額（見込）のお知らせ"
    )  # unified group: each body contracts on its own, so neither document speaks of 負担金
    assert instance.bodies[first].name in titles[0] and instance.bodies[last].name in titles[2]
    assert not any(b"batch-doc" in d for d in together)  # the markers are not written as destinations


def test_one_watermark_per_page_on_drafts(big):
    _, _, _, alone, together = big
    for own, batched in zip(alone, together, strict=True):
        for a, b in zip(page_texts(own), page_texts(batched), strict=True):
            assert a.count("案") == b.count("案")


def test_documents_of_another_template_are_refused():
    with pytest.raises(batch.BatchError):
        batch.batch_html(["<html><head><title>a</title></head><body>x</body></html>", "<p>no body</p>"])


def test_a_zip_of_batches_holds_the_same_documents_as_one_by_one(monkeypatch):
    instance = nagano_instance()
    plan = nagano_plan(instance)
    docs = [d for d in bundle.plan_documents(plan, instance) if d.kind in ("member", "statement", "group")]
    assert any(len(job) > 1 for job in bundle.render_jobs(docs))
    batched = zipfile.ZipFile(io.BytesIO(bundle.plan_zip(instance, plan, docs=docs, workers=1)))
    unbatched = {name: dataclasses.replace(kind, batch_size=None) for name, kind in bundle.KINDS.items()}
    monkeypatch.setattr(bundle, "KINDS", unbatched)
    single = zipfile.ZipFile(io.BytesIO(bundle.plan_zip(instance, plan, docs=docs, workers=1)))
    assert sorted(batched.namelist()) == sorted(single.namelist())
    for name in single.namelist():
        if name.endswith(".pdf"):
            assert page_texts(batched.read(name)) == page_texts(single.read(name)), name


def test_jobs_cover_every_document_once_longest_first():
    docs = [bundle.Document("member", f"n{i}") for i in range(45)] + [
        bundle.Document("summary", ""),
        bundle.Document("agreement", "g1"),
    ]
    jobs = bundle.render_jobs(docs)
    assert sorted(d.key for job in jobs for d in job) == sorted(d.key for d in docs)
    assert [len(job) for job in jobs] == [20, 20, 1, 5, 1]  # the summary (5 s) before five notices (2 s)
    assert all(len({d.kind for d in job}) == 1 for job in jobs)
