"""The agreement draft (協定書案) read back with python-docx: parties, lead, mode, formula, clauses, amounts by year."""

import io
import math
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from docx import Document

from planner.domain.settled import member_lines
from planner.reports.agreement import agreement_docx, agreement_file
from planner.reports.context import ReportError, group_report

from .fixtures import nagano_instance, nagano_plan

CLAUSES = (
    "目的",
    "対象業務",
    "幹事団体の事務",
    "経費の負担と納付時期",
    "契約",
    "個人情報・情報セキュリティ",
    "脱退・加入",
    "協議",
    "有効期間",
    "疑義",
)


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


def text_of(data: bytes) -> tuple[str, list[list[str]]]:
    doc = Document(io.BytesIO(data))
    body = "\n".join(p.text for p in doc.paragraphs)
    header = doc.sections[0].header.paragraphs[0].text
    tables = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    return header + "\n" + body, tables


def test_agreement_names_parties_lead_mode_formula_clauses_and_amounts(setting):
    instance, plan = setting
    data = agreement_docx(instance, plan, "rpa-2026-1")
    text, rows = text_of(data)
    assert "共同調達に関する協定書（案）" in text and "【案】" in text
    for clause in CLAUSES:
        assert f"（{clause}）" in text, clause
    assert "長野県を幹事団体とする" in text and "幹事団体方式（一括調達）" in text
    assert "按分方法：均等割" in text and "令和12年度の末日（2031年3月31日）" in text
    group = next(g for g in plan.groups if g.id == "rpa-2026-1")
    by_name = {}
    for r in rows:
        if r[0]:
            current = r[0]
        by_name.setdefault(current, []).append(r)
    for ln in member_lines(instance, group):
        (gross,) = by_name[ln.body_name]  # 負担額 only: the 別表 deducts no grant (第4条5)
        first = ln.initial_yen + ln.annual_yen
        assert gross[1:4] == ["負担額", f"{first:,}", f"{ln.annual_yen:,}"]
        assert gross[-1] == f"{ln.total_yen:,}"
    assert rows[-1][:2] == ["合計", "負担額"] and rows[-1][-1] == f"{group.cost.total_yen:,}"
    assert "特別交付税" not in text and "実質負担" not in text
    assert "補助金の交付を受ける前の額とする" in text
    assert next(r for r in rows if r[0] == "文書番号")[1].endswith("協-rpa-2026-1")


IPAEX_MINCHO = Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")


def _ipaex_mincho():
    from fontTools.ttLib import TTFont

    if not IPAEX_MINCHO.exists():
        pytest.skip("IPAex明朝 (fonts-ipaexfont-mincho) is not installed")
    return TTFont(IPAEX_MINCHO)


def _ems(font, text: str) -> float:
    """The advance width of ``text`` in ems, from the font file's own metrics."""
    cmap, metrics, upem = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    return sum(metrics[cmap[ord(ch)]][0] / upem for ch in text)


def _needed_mm(text: str, points: float, font) -> float:
    """What ``text`` needs in a cell (1 mm padding each side)."""
    return _ems(font, text) * points * 25.4 / 72 + 2


def test_annex_columns_fit_their_amounts_portrait_or_landscape(setting):
    """The 別表's name and label columns keep their width (28 mm, 24 mm); the amounts share the rest, each column as
    wide as its longest amount needs on one line at the table's size (measured with the font file itself): five
    years on a portrait page, a seven-year term on a landscape page rather than squeezed."""
    import dataclasses

    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    font = _ipaex_mincho()
    instance, _ = setting
    for horizon, orientations, text_width in (
        (5, [WD_ORIENT.PORTRAIT], 160),
        (7, [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE], 247),
    ):
        longer = dataclasses.replace(instance, horizon_years=horizon)
        doc = Document(io.BytesIO(agreement_docx(longer, nagano_plan(longer), "rpa-2026-1")))
        annex = doc.tables[-1]
        assert [s.orientation for s in doc.sections] == orientations
        widths = [c.width / Mm(1) for c in annex.columns]
        assert len(widths) == horizon + 3 and [round(w) for w in widths[:2]] == [28, 24]
        assert abs(sum(widths) - text_width) < 0.1
        points = annex.rows[1].cells[2].paragraphs[0].runs[0].font.size.pt
        assert annex.rows[0].cells[2].paragraphs[0].runs[0].font.size.pt == points - 1  # the heads a point smaller
        for j, width in enumerate(widths[2:], start=2):
            longest = max((row.cells[j].text for row in annex.rows[1:]), key=lambda t: _needed_mm(t, points, font))
            assert _needed_mm(longest, points, font) <= width, (horizon, j, longest, width)
        assert [c.text for c in annex.rows[-1].cells[:2]] == ["合計", "負担額"]


def test_annex_layout_prefers_portrait_at_a_smaller_size_to_landscape():
    from planner.reports.agreement import _annex_layout

    # a 15-member group's amounts: at 8 points, five years and a total of 203 million need more than 108 mm
    heads = ["令和8年度", "令和9年度", "令和10年度", "令和11年度", "令和12年度", "合計（円）"]
    amounts = [["11,238,577", "4,462,728"]] + [["10,036,868"]] * 4 + [["203,113,585"]]
    landscape, points, widths = _annex_layout(heads, amounts)
    assert (landscape, points) == (False, 7.0) and widths[-1] > widths[0]
    # eleven years and their total do not fit a portrait page at 7 points either
    assert _annex_layout(["令和8年度"] * 12, [["17,586,399"]] * 11 + [["193,450,389"]])[:2] == (True, 7.0)


def test_the_amount_widths_are_those_of_the_font():
    from planner.reports.agreement import _EM

    font = _ipaex_mincho()
    assert {ch: round(_ems(font, ch), 3) for ch in _EM} == {ch: round(em, 3) for ch, em in _EM.items()}


def test_unified_group_has_a_coordinator_and_members_contract_themselves(setting):
    instance, plan = setting
    text, _ = text_of(agreement_docx(instance, plan, "ocr-2026-1"))
    assert "長野市を取りまとめ団体とする" in text and "（取りまとめ団体の事務）" in text
    assert "各構成団体が締結する" in text


def test_file_name_carries_category_lead_and_year_and_standalone_has_none(setting):
    instance, plan = setting
    assert agreement_file(group_report(instance, plan, "rpa-2026-1")) == "協定書案_RPA_長野県_令和8年度_rpa-2026-1.docx"
    alone = next(g for g in plan.groups if g.mode == "standalone")
    with pytest.raises(ReportError, match="単独調達"):
        agreement_docx(instance, plan, alone.id)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_draft(setting, tmp_path):
    instance, plan = setting
    src = tmp_path / "a.docx"
    src.write_bytes(agreement_docx(instance, plan, "rpa-2026-1"))
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    assert (tmp_path / "a.pdf").stat().st_size > 10000


PARTS = {"均等割": "equal", "人口割": "population", "利用量割": "volume"}


def _article_4(text: str) -> str:
    return text[text.index("第4条") : text.index("（契約）")]


def _largest_remainder(amount: int, ratios: list[Fraction], order: list[int]) -> list[int]:
    quotas = [amount * r / sum(ratios) for r in ratios]
    floors = [math.floor(q) for q in quotas]
    for i in sorted(range(len(ratios)), key=lambda i: (-(quotas[i] - floors[i]), order.index(i)))[
        : amount - sum(floors)
    ]:
        floors[i] += 1
    return floors


@pytest.fixture(scope="module")
def formula_plans():
    from planner.domain import optimiser, settlement

    instance = nagano_instance()
    optimised = optimiser.optimise(instance, time_limit=20)
    weights = {"equal": 0.3, "population": 0.5, "volume": 0.2}
    return instance, {
        core: settlement.settle_plan(instance, optimised, method="formula", weights=weights, core=core)
        for core in ("rule", "adjust")
    }


@pytest.mark.parametrize("core", ["rule", "adjust"])
def test_article_4_recomputed_by_hand_gives_the_annex(formula_plans, core):
    """第4条's weights, applied by hand to the plan's cost and the members' counts, populations and volumes with the
    largest remainder (ties to the lead, then the 別表's order), give each member's 負担額 in the 別表 (plus its
    調整額 where 第4条 says the shares were adjusted); the article is である調 and has no 特別交付税 clause."""
    instance, plans = formula_plans
    plan = plans[core]
    for group in (g for g in plan.groups if g.mode != "standalone"):
        text, rows = text_of(agreement_docx(instance, plan, group.id))
        article = _article_4(text)
        stated = article[: article.index("の割合により按分")].rsplit("それぞれ", 1)[1]
        found = dict(re.findall(r"(均等割|人口割|利用量割)([\d.]+)%", stated))
        assert found, article
        weights = {key: Fraction(found.get(name, "0")) / 100 for name, key in PARTS.items()}
        assert sum(weights.values()) == 1
        adjusted = "調整額を加えた額" in article
        assert adjusted == (group.allocation.rule == "adjusted")
        for polite in ("です", "ます", "二乗", "特別交付税"):
            assert polite not in article, polite
        needs = [instance.need(nid) for nid in group.members]
        bases = {
            "equal": [Fraction(1)] * len(needs),
            "population": [Fraction(instance.bodies[n.body].population) for n in needs],
            "volume": [Fraction(n.volume) for n in needs],
        }
        ratios = [sum(weights[k] * bases[k][i] / sum(bases[k]) for k in bases) for i in range(len(needs))]
        lead = [i for i, n in enumerate(needs) if n.body == group.lead_body]
        order = lead + [i for i in range(len(needs)) if i not in lead]
        initial = _largest_remainder(group.cost.initial_yen, ratios, order)
        annual = _largest_remainder(group.cost.annual_yen, ratios, order)
        by_body: dict[str, dict[str, list[int]]] = {}
        for row in rows[1:]:
            if row[1] in ("負担額", "うち調整額") and row[0] != "合計":
                by_body.setdefault(row[0].split("（")[0], {})[row[1]] = [int(c.replace(",", "")) for c in row[2:-1]]
        assert len(by_body) == len(needs)
        for i, n in enumerate(needs):
            annex = by_body[instance.bodies[n.body].name]
            by_hand = [initial[i] + annual[i]] + [annual[i]] * (instance.horizon_years - 1)
            extra = annex.get("うち調整額", [0] * len(by_hand))
            assert ("うち調整額" in annex) == adjusted
            assert annex["負担額"] == [h + e for h, e in zip(by_hand, extra, strict=True)], (group.id, n.body)


def test_a_prefecture_lead_is_not_tasked_with_the_grant_and_the_group_is_told_why():
    """A prefecture cannot receive the grant as 実施主体: its agreement does not list applying for it among the
    lead's duties, and 第4条5 says the group gets none and why (the reason the estimates recorded)."""
    import dataclasses

    from planner.domain import optimiser, settlement
    from planner.domain.costs import group_cost

    instance = nagano_instance()
    optimised = optimiser.optimise(instance, time_limit=20)
    rpa = next(g for g in optimised.groups if g.category == "rpa" and g.mode == "lead")
    hosted = dataclasses.replace(rpa, lead_body="200000")
    needs = [instance.need(n) for n in hosted.members]
    hosted = dataclasses.replace(hosted, cost=group_cost(instance, needs, "lead", "200000"))
    plan = settlement.settle_plan(
        instance, dataclasses.replace(optimised, groups=[g if g is not rpa else hosted for g in optimised.groups])
    )
    text, _ = text_of(agreement_docx(instance, plan, rpa.id))
    assert "長野県を幹事団体とする" in text and "補助金の申請" not in text
    assert "補助金の交付を受けない（" in text and "都道府県" in text[text.index("補助金の交付を受けない") :]
    lead_city = next(g for g in plan.groups if g.mode == "lead" and g.lead_body != "200000")
    assert "補助金の申請" in text_of(agreement_docx(instance, plan, lead_city.id))[0]
