import io
import zipfile

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
    assert sorted(zf.namelist()) == sorted(f"負担額通知/member-{n}.pdf" for n in wanted)
    assert "上田市長様" in pdf_text(zf.read("負担額通知/member-n-ueda-rpa.pdf"))
