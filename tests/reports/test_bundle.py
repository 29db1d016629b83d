import io
import zipfile

import pytest

from planner.reports import bundle

from .fixtures import nagano_instance, nagano_plan
from .helpers import pdf_text


def test_safe_names():
    assert bundle.group_file("ocr/2026:1") == "ocr_2026_1.pdf"
    assert bundle.member_file("../x", "xlsx") == "member-_x.xlsx"
    assert bundle.safe_name("..") == "_"


def test_documents_of_a_plan():
    plan = nagano_plan(nagano_instance())
    docs = bundle.plan_documents(plan)
    assert docs[0] == bundle.Document("summary", "")
    assert [d.key for d in docs if d.kind == "group"] == ["ocr-2026-1", "rpa-2026-1"]
    assert len([d for d in docs if d.kind == "member"]) == 7  # members of joint groups; standalone needs have none


def test_parallel_rendering_gives_the_same_files(monkeypatch):
    instance = nagano_instance()
    plan = nagano_plan(instance)
    monkeypatch.setattr(bundle, "PARALLEL_FROM", 1)
    wanted = {"n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"}
    data = bundle.plan_zip(instance, plan, allowed=lambda d: d.key in wanted, workers=2)
    zf = zipfile.ZipFile(io.BytesIO(data))
    # file names by body, category and year, not internal ids
    assert sorted(zf.namelist()) == [
        "負担額通知/202011_長野市_RPA_2026.pdf",
        "負担額通知/202037_上田市_RPA_2026.pdf",
        "負担額通知/204820_小谷村_RPA_2026.pdf",
    ]
    assert "上田市長様" in pdf_text(zf.read("負担額通知/202037_上田市_RPA_2026.pdf"))


def test_every_document_of_a_plan_with_the_instance():
    instance = nagano_instance()
    plan = nagano_plan(instance)
    docs = bundle.plan_documents(plan, instance)
    kinds = [d.kind for d in docs]
    # the lead-mode group has its 協定書, the 仕様統一 group its 覚書 (and no 協定書)
    assert kinds.count("agreement") == 1 and kinds.count("memorandum") == 1 and kinds.count("budget") == 1
    assert [d.key for d in docs if d.kind == "statement"] == ["202011", "202029", "202037", "204820", "204854"]
    # 予算見積資料: every body with a need, and the prefecture, which leads the RPA group as host
    assert [d.key for d in docs if d.kind == "finance"] == ["200000", "202011", "202029", "202037", "204820", "204854"]
    progress = []
    data = bundle.plan_zip(
        instance,
        plan,
        docs=[d for d in docs if d.kind in ("agreement", "memorandum", "budget")],
        workers=1,
        progress=lambda done, total: progress.append((done, total)),
    )
    # in order, one step per document
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert sorted(zipfile.ZipFile(io.BytesIO(data)).namelist()) == [
        "協定書案/RPA_長野県_2026_rpa-2026-1.docx",
        "協定書案/RPA_長野県_2026_rpa-2026-1.pdf",  # the same draft to read and file as to edit
        "年度別予算総括表.pdf",
        "年度別予算総括表.xlsx",
        "覚書案/AI-OCR_長野市_2026_ocr-2026-1.docx",
        "覚書案/AI-OCR_長野市_2026_ocr-2026-1.pdf",
    ]


def test_a_worker_job_pauses_the_collector_and_restores_it_even_when_it_fails(monkeypatch):
    import gc

    seen = []

    def failing_job(instance, plan, meta, job, font_config):
        seen.append(gc.isenabled())
        raise RuntimeError("broken document")

    monkeypatch.setattr(bundle, "render_job", failing_job)
    monkeypatch.setattr(bundle, "_worker_state", (None, None, None, None, None, None))
    with pytest.raises(RuntimeError, match="broken document"):
        bundle._render_in_worker((bundle.Document("member", "x"),))
    assert seen == [False]
    assert gc.isenabled()


def test_a_worker_keeps_one_font_configuration_for_all_its_batches(monkeypatch):
    configurations = []
    monkeypatch.setattr(bundle, "render_job", lambda i, p, m, job, font_config: configurations.append(font_config))
    monkeypatch.setattr(bundle, "_worker_state", (None, None, None, bundle._font_configuration(), None, None))
    for key in ("a", "b"):
        bundle._render_in_worker((bundle.Document("member", key), bundle.Document("member", key + "2")))
    assert configurations[0] is configurations[1] is bundle._worker_state[3]
