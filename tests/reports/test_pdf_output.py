"""How the PDFs are written (planner.reports.pdf_output) changes nothing they show: the same decoded page contents
and embedded font files as with pydyf's own level 9 and a font file copied for every PDF."""

import contextlib
import io
import zlib

import pydyf
import pypdf
import pytest

from planner.reports import batch, pdf, pdf_output

from .bigplan import thirty_member_setting


def decoded(data: bytes) -> list[tuple[bytes, list[bytes]]]:
    """Each page's content stream and the font files it embeds, decompressed."""
    out = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        fonts = []
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                fonts += [
                    descriptor[k].get_object().get_data() for k in ("/FontFile2", "/FontFile3") if k in descriptor
                ]
        out.append((page.get_contents().get_data(), sorted(fonts)))
    return out


@pytest.fixture(scope="module")
def notices():
    instance, plan = thirty_member_setting()
    return [pdf.member_html(instance, plan, n) for n in plan.groups[0].members[:4]]


def test_streams_are_deflated_at_level_6_and_read_back_the_same():
    pdf_output.install()
    raw = "負担額通知 共同調達 ".encode() * 500
    stream = pydyf.Stream([raw], compress=True)
    body = stream.data.split(b"stream\n", 1)[1].rsplit(b"\nendstream", 1)[0]
    assert zlib.decompress(body) == raw
    level6 = zlib.compressobj(6)
    assert body == level6.compress(raw) + level6.flush()


def test_sharing_font_files_within_a_batch_changes_no_byte(notices, monkeypatch):
    faces: dict = {}
    once = pdf_output.font_files_once

    @contextlib.contextmanager
    def watched(font_config=None):
        with once(font_config):
            yield
            faces.update(pdf_output._local.store["data"])

    monkeypatch.setattr(pdf_output, "font_files_once", watched)
    shared = batch.render_pdfs(notices, [pdf._stylesheet()])
    fonts_per_pdf = len({f for _, fonts in decoded(shared[0]) for f in fonts})
    assert 1 <= len(faces) <= fonts_per_pdf  # one copy per face for the batch's four PDFs, not one per PDF
    monkeypatch.setattr(pdf_output, "font_files_once", lambda font_config=None: contextlib.nullcontext())
    copied = batch.render_pdfs(notices, [pdf._stylesheet()])
    assert shared == copied


def test_level_6_shows_what_level_9_showed(notices, monkeypatch):
    ours = batch.render_pdfs(notices, [pdf._stylesheet()])
    monkeypatch.setattr(pydyf, "zlib", zlib)  # pydyf's own compression, level 9
    theirs = batch.render_pdfs(notices, [pdf._stylesheet()])
    for a, b in zip(ours, theirs, strict=True):
        assert a != b and decoded(a) == decoded(b)
        assert all(fonts for _, fonts in decoded(a))  # the fonts were compared, not skipped
    assert sum(map(len, ours)) < 1.02 * sum(map(len, theirs))


def test_outside_a_batch_each_font_copies_its_own_file(notices):
    pdf_output.install()
    assert getattr(pdf_output._local, "store", None) is None
    one = pdf.html_to_pdf(notices[0])
    assert decoded(one)[0][1]  # the font is there, subset, as always


def test_subsetting_from_a_prepared_face_changes_no_byte(notices, monkeypatch):
    from weasyprint.text.fonts import FontConfiguration

    pdf_output.install()
    preprocess = pdf_output._preprocess()
    if preprocess is None:
        pytest.skip("this HarfBuzz-Subset has no hb_subset_preprocess (older than 6.0)")
    made = []
    monkeypatch.setattr(pdf_output, "_preprocess", lambda: lambda face: made.append(face) or preprocess(face))
    worker = FontConfiguration()  # kept for two batches, as a render worker keeps its own
    prepared = batch.render_pdfs(notices, [pdf._stylesheet()], worker)
    faces = len({f for _, fonts in decoded(prepared[0]) for f in fonts})
    assert 1 <= len(made) <= faces
    again = batch.render_pdfs(notices, [pdf._stylesheet()], worker)
    assert len(made) <= faces  # each face prepared once for the worker's batches
    own = batch.render_pdfs(notices, [pdf._stylesheet()])  # a batch with a configuration of its own prepares its own
    assert faces < len(made) <= 2 * faces
    before = len(made)
    alone = pdf.html_to_pdf(notices[0])  # a single PDF is subset from the face itself
    assert len(made) == before
    monkeypatch.setattr(pdf_output, "prepared_face", lambda face: None)
    assert batch.render_pdfs(notices, [pdf._stylesheet()]) == prepared == again == own
    assert pdf.html_to_pdf(notices[0]) == alone
