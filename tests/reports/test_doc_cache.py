"""Documents kept by content (issue #31: a cold ZIP of 324 documents took 84–96 s, and building the same documents
again cost as much): a second build of the same plan lays out no page again, and a change lays out again exactly
the documents whose pages it changed, counted."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import date

from planner.reports import bundle, stamp
from planner.reports.control import DocumentControl, Issuer, release_number
from planner.reports.doc_cache import DocumentCache, document_key
from planner.reports.records import ReportMeta

from .fixtures import nagano_instance, nagano_plan
from .helpers import pdf_pages, pdf_text


def _zip(instance, plan, docs, cache_dir, stats, meta=None):
    data = bundle.plan_zip(instance, plan, meta, docs=docs, workers=1, cache_dir=str(cache_dir), stats=stats)
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {name: zf.read(name) for name in zf.namelist()}


def test_a_rebuild_lays_out_only_the_documents_whose_pages_changed(tmp_path):
    instance = nagano_instance()
    plan = nagano_plan(instance)
    docs = bundle.plan_documents(plan, instance)
    words = 0  # every document has a PDF kept by its content: the drafts' too (their Word files cost no layout)
    first: dict = {}
    files = _zip(instance, plan, docs, tmp_path, first)
    assert first == {"documents": len(docs), "reused": 0, "rendered": len(docs)}
    # the same documents again (a re-publish, or the ZIP rebuilt after it was pruned): no page is laid out
    again: dict = {}
    files_again = _zip(instance, plan, docs, tmp_path, again)
    assert again == {"documents": len(docs), "reused": len(docs) - words, "rendered": words}
    pdfs = [n for n in files if n.endswith(".pdf")]
    assert pdfs and all(files_again[n] == files[n] for n in pdfs)  # the very same PDFs
    assert sorted(files_again) == sorted(files)
    # one body renamed: only the pages that show its name are laid out again (its notices, its statement, its
    # groups' 算定書, the summary and the budget table), the others are reused
    otari = instance.bodies["204820"]
    renamed = dataclasses.replace(
        instance, bodies={**instance.bodies, "204820": dataclasses.replace(otari, name="小谷村（新）")}
    )
    changed = [
        d
        for d in docs
        if stamp.split(bundle._pdf_html(instance, plan, None, d)).body
        != stamp.split(bundle._pdf_html(renamed, plan, None, d)).body
    ]
    assert 0 < len(changed) < len(docs) - words
    assert {d.kind for d in changed} >= {"member", "statement", "summary", "budget"}
    third: dict = {}
    files_third = _zip(renamed, plan, docs, tmp_path, third)
    assert third["rendered"] == len(changed) + words and third["reused"] == len(docs) - words - len(changed)
    untouched = bundle.document_files(instance, plan, bundle.Document("statement", "202011"))[0]
    assert files_third[untouched] == files[untouched]


def test_the_key_is_the_page_and_the_renderer():
    assert document_key("member", "<p>a</p>") == document_key("member", "<p>a</p>")
    assert document_key("member", "<p>a</p>") != document_key("member", "<p>b</p>")
    assert document_key("member", "<p>a</p>") != document_key("statement", "<p>a</p>")


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    store = DocumentCache(blocked)
    store.put("ab" * 32, b"%PDF")  # no error
    assert store.get("ab" * 32) is None


def _meta(version: int, day: date) -> ReportMeta:
    control = DocumentControl(
        plan_label=f"計画 No.1 第{version}版",
        state_label="公表中",
        base_number=release_number("長DX", 1, version),
        draft=False,
        issuer=Issuer(title="長野県 企画振興部 DX推進課", number_prefix="長DX"),
        issued_on=day,
    )
    return ReportMeta(
        price_book_version="ref", rule_version="R7-test", issued_on=day, title="共同調達計画", control=control
    )


def test_version_2_lays_out_only_the_documents_whose_content_changed(tmp_path):
    """Every page prints the version's 文書番号, 計画 No. 第N版 and 発行日: they are stamped over a body kept by its
    content (planner.reports.stamp), so a re-publish and a version 2 lay out no body again, and a version 2 in
    which one group's figures changed lays out exactly the documents that show them — the other group's 算定書 and
    its members' notices come from the store with the new version stamped on."""
    instance = nagano_instance()
    plan = nagano_plan(instance)
    docs = bundle.plan_documents(plan, instance)
    words = 0  # every document has a PDF kept by its content: the drafts' too (their Word files cost no layout)
    v1, v2 = _meta(1, date(2026, 12, 1)), _meta(2, date(2027, 1, 15))
    first: dict = {}
    _zip(instance, plan, docs, tmp_path, first, v1)
    assert first["rendered"] == len(docs)
    again: dict = {}
    files_again = _zip(instance, plan, docs, tmp_path, again, v1)  # a re-publish of the same version
    assert again["rendered"] == 0  # the Word drafts too come from the store (planner.reports.office_cache)
    second: dict = {}
    files = _zip(instance, plan, docs, tmp_path, second, v2)  # version 2, nothing else changed
    assert second["rendered"] == 0 and second["reused"] == len(docs)
    for name, data in files.items():
        if name.endswith(".pdf"):
            text = pdf_text(data)
            assert "長DX第1-2号" in text and "令和9年1月15日" in text, name
            assert "長DX第1-1号" not in text and "令和8年12月1日" not in text, name
            assert "計画No.1第2版（公表中）" in text, name
            assert pdf_text(files_again[name]).count("長DX第1-1号") == text.count("長DX第1-2号"), name

    # version 2 with one group's figures changed (上田市's RPA volume): only the documents showing them are laid out
    needs = tuple(dataclasses.replace(n, volume=n.volume * 3) if n.id == "n-ueda-rpa" else n for n in instance.needs)
    changed_instance = dataclasses.replace(instance, needs=needs)
    changed_plan = nagano_plan(changed_instance)
    changed = [
        d
        for d in docs
        if stamp.split(bundle._pdf_html(instance, plan, v2, d)).body
        != stamp.split(bundle._pdf_html(changed_instance, changed_plan, v2, d)).body
    ]
    rpa = {"n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"}
    assert {(d.kind, d.key) for d in changed} >= {("group", "rpa-2026-1"), *(("member", n) for n in rpa)}
    assert not {(d.kind, d.key) for d in changed} & {("group", "ocr-2026-1"), ("member", "n-matsumoto-ocr")}
    third: dict = {}
    files_third = _zip(changed_instance, changed_plan, docs, tmp_path, third, v2)
    assert third["rendered"] == len(changed) + words and third["reused"] == len(docs) - words - len(changed)
    untouched = bundle.document_files(instance, plan, bundle.Document("group", "ocr-2026-1"))[0]
    assert files_third[untouched] == files[untouched]


def test_a_stamped_document_says_what_the_document_laid_out_whole_says(tmp_path):
    instance = nagano_instance()
    plan = nagano_plan(instance)
    meta = _meta(2, date(2027, 1, 15))
    job = (bundle.Document("group", "ocr-2026-1"),)
    stamped, _ = bundle.render_job_cached(instance, plan, meta, job, None, DocumentCache(tmp_path))
    whole = bundle.render_job(instance, plan, meta, job)
    assert sorted(pdf_text(stamped[0][1])) == sorted(pdf_text(whole[0][1]))  # the same characters, every one
    assert pdf_pages(stamped[0][1]) == pdf_pages(whole[0][1])


def _parts(data: bytes) -> dict[str, bytes]:
    """A workbook's or Word draft's parts, without the one that records when the file was made."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}


def _says(xml: bytes, words: str) -> bool:
    """Whether XML holds ``words`` (as UTF-8, or as the character references openpyxl writes)."""
    return words.encode() in xml or words.encode("ascii", "xmlcharrefreplace") in xml


def test_version_2_fills_the_kept_workbooks_and_word_drafts_and_stamps_nothing_twice(tmp_path, monkeypatch):
    """Issue #31 point 9: a version 2 makes no workbook or Word draft again (they are kept with placeholders for the
    version's words, which are filled in: every part as the file made directly for version 2 has it), and a
    re-publish stamps no PDF again (the stamped PDF is kept under its whole page's key)."""
    instance = nagano_instance()
    plan = nagano_plan(instance)
    docs = bundle.plan_documents(plan, instance)
    v1, v2 = _meta(1, date(2026, 12, 1)), _meta(2, date(2027, 1, 15))
    _zip(instance, plan, docs, tmp_path, {}, v1)
    made = []
    second: dict = {}
    files = _zip(instance, plan, docs, tmp_path, second, v2)
    assert second["reused"] == len(docs)
    office = [n for n in files if n.endswith((".xlsx", ".docx"))]
    assert {n.rsplit(".", 1)[1] for n in office} == {"xlsx", "docx"}
    for d in docs:
        names = bundle.document_files(instance, plan, d)
        direct = bundle.render_document(instance, plan, v2, d)
        for name, data in direct:
            if name.endswith((".xlsx", ".docx")):
                made.append(name)
                assert _parts(files[name]) == _parts(data), name  # the version's words where the direct file has them
                text = b"".join(_parts(files[name]).values())
                assert _says(text, "長DX第1-2号") and not _says(text, "長DX第1-1号"), name
                assert b"QQ" not in text, name
        assert names[0] in files
    assert sorted(made) == sorted(office)

    # a re-publish of version 2: the very same files, and no stamp laid out or drawn again
    stamped: list[int] = []
    real = bundle._stamped
    monkeypatch.setattr(bundle, "_stamped", lambda parts, *a: stamped.append(len(parts)) or real(parts, *a))
    again: dict = {}
    files_again = _zip(instance, plan, docs, tmp_path, again, v2)
    assert again == {"documents": len(docs), "reused": len(docs), "rendered": 0}
    assert stamped == []
    assert {n: files_again[n] for n in files if n.endswith(".pdf")} == {
        n: files[n] for n in files if n.endswith(".pdf")
    }
