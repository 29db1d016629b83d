"""Documents kept by content (issue #31: a cold ZIP of 324 documents took 84–96 s, and building the same documents
again cost as much): a second build of the same plan lays out no page again, and a change lays out again exactly
the documents whose pages it changed, counted."""

from __future__ import annotations

import dataclasses
import io
import zipfile

from planner.reports import bundle
from planner.reports.doc_cache import DocumentCache, document_key

from .fixtures import nagano_instance, nagano_plan


def _zip(instance, plan, docs, cache_dir, stats):
    data = bundle.plan_zip(instance, plan, docs=docs, workers=1, cache_dir=str(cache_dir), stats=stats)
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {name: zf.read(name) for name in zf.namelist()}


def test_a_rebuild_lays_out_only_the_documents_whose_pages_changed(tmp_path):
    instance = nagano_instance()
    plan = nagano_plan(instance)
    docs = bundle.plan_documents(plan, instance)
    words = sum(1 for d in docs if d.kind in ("agreement", "memorandum"))  # Word drafts: no layout, always made
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
        if d.kind not in ("agreement", "memorandum")
        and bundle._pdf_html(instance, plan, None, d) != bundle._pdf_html(renamed, plan, None, d)
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
