"""The agreement drafts read back with python-docx: the 協定書（案） of a lead-mode group (parties, lead, mode, the
rule of 第4条 recomputed by hand against its 別表, 精算, the grant article against its 別表, budgets, personal data,
withdrawal) and the 覚書（案） of a 仕様統一 group (no amounts owed between the bodies)."""

import dataclasses
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
from planner.reports.bundle import plan_documents
from planner.reports.context import ReportError, group_report
from planner.reports.memorandum import memorandum_docx

from .fixtures import nagano_instance, nagano_plan

CLAUSES = (
    "目的",
    "対象業務",
    "幹事団体",
    "負担額の算定",
    "精算",
    "負担金の請求及び納付",
    "補助金の取扱い",
    "予算の措置",
    "契約",
    "個人情報の保護及び成果物",
    "脱退",
    "加入",
    "有効期間",
    "協議",
)
# the 個人情報取扱特記事項 the lead attaches to its contract
SPECIAL_TERMS = ("返還及び削除", "事故発生時の報告", "監督及び調査", "契約の解除及び損害賠償", "成果物の帰属")


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


def text_of(data: bytes) -> tuple[str, list[list[str]]]:
    doc = Document(io.BytesIO(data))
    body = "\n".join(p.text for p in doc.paragraphs)
    header = "\n".join(p.text for p in doc.sections[0].header.paragraphs)
    tables = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    return header + "\n" + body, tables


def annex(data: bytes, first_head: str, second_head: str) -> list[list[str]]:
    """The rows of the 別表 whose first two heads are these (別表第1: 構成団体・人口（人）, 別表第2: 構成団体・区分,
    別表第3: 構成団体・初期費用の負担額（円））."""
    for t in Document(io.BytesIO(data)).tables:
        rows = [[c.text for c in row.cells] for row in t.rows]
        if rows[0][:2] == [first_head, second_head]:
            return rows
    raise AssertionError(f"no table headed {first_head}, {second_head}")


def yen(text: str) -> int:
    return int(text.replace(",", ""))


def test_agreement_names_parties_lead_mode_rule_clauses_and_amounts_before_grant(setting):
    instance, plan = setting
    data = agreement_docx(instance, plan, "rpa-2026-1")
    text, _ = text_of(data)
    assert "共同調達に関する協定書（案）" in text and "【案】" in text
    for clause in CLAUSES + SPECIAL_TERMS:
        assert f"（{clause}）" in text, clause
    assert "長野県を幹事団体とする" in text and "幹事団体方式（一括調達）" in text
    assert "按分方法：均等割" in text and "令和12年度の末日（2031年3月31日）" in text
    # the recital names what the agreement is, and no form of cooperation it is not
    recital = text[text.index("（以下「構成団体」という。）") : text.index("（目的）")]
    assert "地方自治法（昭和22年法律第67号）第2条第14項" in recital and "契約であり" in recital
    assert "協議会の設置" in recital and "によるものではない" in recital
    # budgets year by year, with the lead's multi-year contract and a budget that fails or shrinks
    assert "各年度の各構成団体の予算の定めるところによる" in text
    assert "予算が成立しなかったとき、又は減額されたとき" in text and "第214条" in text
    # 精算 against the contract price; the 別表 are 見込額
    assert "契約の金額" in text and "差額を精算する" in text and "見込額" in text
    # withdrawal recomputes the others' shares and charges the leaver its costs
    withdrawal = text[text.index("（脱退）") : text.index("（加入）")]
    assert "算定し直し" in withdrawal and "違約金" in withdrawal and "脱退した構成団体が負担する" in withdrawal
    # the 成果物 (here RPA scenarios) belong to the lead and every member may use them
    assert "RPAのシナリオ" in text and "無償で利用させる" in text
    group = next(g for g in plan.groups if g.id == "rpa-2026-1")
    rows = annex(data, "構成団体", "区分")
    by_name = {r[0].split("（")[0]: r for r in rows[1:]}
    for ln in member_lines(instance, group):
        gross = by_name[ln.body_name]  # 負担額 only: the 別表 deducts no grant (第7条)
        first = ln.initial_yen + ln.annual_yen
        assert gross[1:4] == ["負担額", f"{first:,}", f"{ln.annual_yen:,}"]
        assert gross[-1] == f"{ln.total_yen:,}"
    assert rows[-1][:2] == ["合計", "負担額"] and rows[-1][-1] == f"{group.cost.total_yen:,}"
    assert "特別交付税" not in text and "実質負担" not in text
    assert "補助金の交付を受ける前の額とし、補助金は負担額から差し引かない" in text


def test_one_issuer_the_lead_in_the_header(setting):
    from planner.reports.control import Issuer, draft_control
    from planner.reports.records import ReportMeta

    instance, plan = setting
    prefecture = Issuer("長野県企画振興部DX推進課", "担当太郎", "026-000-0000", "長DX")
    meta = ReportMeta(control=draft_control("7", prefecture))
    for group_id, make, lead in (
        ("rpa-2026-1", agreement_docx, "幹事団体　長野県知事"),
        ("ocr-2026-1", memorandum_docx, "取りまとめ団体　長野市長"),
    ):
        doc = Document(io.BytesIO(make(instance, plan, group_id, meta)))
        header = "\n".join(p.text for p in doc.sections[0].header.paragraphs)
        code = "協" if make is agreement_docx else "覚"
        assert f"長DX試算7-{code}-{group_id}" in header and f"発行 {lead}" in header
        everything = header + "\n".join(p.text for s in doc.sections for p in (*s.footer.paragraphs,))
        everything += "\n".join(p.text for p in doc.paragraphs)
        assert prefecture.title not in everything and prefecture.person not in everything


def test_article_4_states_the_population_base_date(formula_plans):
    """The population 第4条 divides by is the one of a stated day: the population import's own date, as the
    documents' data source records it (and a blank to fill where no import says)."""
    from planner.reports.control import draft_control
    from planner.reports.records import ReportMeta

    instance, plans = formula_plans
    plan = plans["rule"]
    group = next(g for g in plan.groups if g.mode == "lead")
    source = "人口：総務省「令和4年1月1日住民基本台帳人口・世帯数」（2022年01月01日現在）、財政力指数：総務省「主要財政指標」"
    meta = ReportMeta(control=dataclasses.replace(draft_control("7"), data_source=source))
    article = _article_4(text_of(agreement_docx(instance, plan, group.id, meta))[0])
    formula = re.search(r"([２-９])　各(?:構成|負担)団体の負担額は", article)
    assert formula, article
    number = "２３４５６７８９".index(formula.group(1)) + 2
    assert f"第{number}項の人口は令和4年1月1日現在の住民基本台帳に基づく人口（別表第1に掲げる人口）" in article
    assert "令和　　年　　月　　日現在の住民基本台帳" in _article_4(
        text_of(agreement_docx(instance, plan, group.id))[0]
    )


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
    """The 別表第2's name and label columns keep their width (28 mm, 24 mm); the amounts share the rest, each column as
    wide as its longest amount needs on one line at the table's size (measured with the font file itself): five
    years on a portrait page, a seven-year term on a landscape page rather than squeezed."""
    import dataclasses

    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    font = _ipaex_mincho()
    instance, _ = setting
    for horizon, orientations, text_width in (
        (5, [WD_ORIENT.PORTRAIT], 160),
        # after a landscape 別表第2 the 別記 is portrait again
        (7, [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT], 247),
    ):
        longer = dataclasses.replace(instance, horizon_years=horizon)
        doc = Document(io.BytesIO(agreement_docx(longer, nagano_plan(longer), "rpa-2026-1")))
        annex = next(t for t in doc.tables if t.rows[0].cells[1].text == "区分")
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
    from planner.reports.drafts import annex_layout as _annex_layout

    # a 15-member group's amounts: at 8 points, five years and a total of 203 million need more than 108 mm
    heads = ["令和8年度", "令和9年度", "令和10年度", "令和11年度", "令和12年度", "合計（円）"]
    amounts = [["11,238,577", "4,462,728"]] + [["10,036,868"]] * 4 + [["203,113,585"]]
    landscape, points, widths = _annex_layout(heads, amounts)
    assert (landscape, points) == (False, 7.0) and widths[-1] > widths[0]
    # eleven years and their total do not fit a portrait page at 7 points either
    assert _annex_layout(["令和8年度"] * 12, [["17,586,399"]] * 11 + [["193,450,389"]])[:2] == (True, 7.0)


def test_the_amount_widths_are_those_of_the_font():
    from planner.reports.drafts import _EM

    font = _ipaex_mincho()
    assert {ch: round(_ems(font, ch), 3) for ch in _EM} == {ch: round(em, 3) for ch, em in _EM.items()}


def test_a_unified_group_gets_the_memorandum_and_no_agreement(setting):
    """仕様統一方式: each member contracts on its own, so the group has a 覚書 (common specification, coordination,
    reference prices) and no 協定書; the 覚書 owes nothing between the bodies and its 別表 is each body's own
    expected contract amount at the reference prices."""
    instance, plan = setting
    kinds = {(d.kind, d.key) for d in plan_documents(plan, instance)}
    assert ("memorandum", "ocr-2026-1") in kinds and ("agreement", "ocr-2026-1") not in kinds
    assert ("agreement", "rpa-2026-1") in kinds and ("memorandum", "rpa-2026-1") not in kinds
    with pytest.raises(ReportError, match="覚書"):
        agreement_docx(instance, plan, "ocr-2026-1")
    with pytest.raises(ReportError, match="仕様統一方式ではない"):
        memorandum_docx(instance, plan, "rpa-2026-1")
    data = memorandum_docx(instance, plan, "ocr-2026-1")
    text, _ = text_of(data)
    assert "仕様統一による調達に関する覚書（案）" in text and "協定書" not in text
    for clause in ("取りまとめ団体", "共通仕様書", "参考価格", "調達及び契約", "経費", "離脱"):
        assert f"（{clause}）" in text, clause
    assert "長野市を取りまとめ団体とする" in text and "それぞれ調達し、契約を締結する" in text
    assert "負担金その他の金銭の授受は行わない" in text and "金銭の支払の義務を生じさせるものではない" in text
    for owed in ("納付", "請求", "精算", "負担額", "特別交付税"):
        assert owed not in text, owed
    rows = annex(data, "参加団体", "区分")
    group = next(g for g in plan.groups if g.id == "ocr-2026-1")
    by_name = {r[0].split("（")[0]: r for r in rows[1:-1]}
    for ln in member_lines(instance, group):
        assert by_name[ln.body_name][1] == "見込額" and yen(by_name[ln.body_name][-1]) == ln.total_yen
    assert yen(rows[-1][-1]) == group.cost.total_yen
    prices = annex(data, "項目", "算定")
    assert sum(yen(r[-1]) for r in prices[1:]) == group.cost.initial_yen + group.cost.annual_yen


def test_file_name_carries_category_lead_and_year_and_standalone_has_none(setting):
    instance, plan = setting
    assert agreement_file(group_report(instance, plan, "rpa-2026-1")) == "協定書案_RPA_長野県_令和8年度_rpa-2026-1.docx"
    alone = next(g for g in plan.groups if g.mode == "standalone")
    with pytest.raises(ReportError, match="単独調達"):
        agreement_docx(instance, plan, alone.id)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("group_id", ["rpa-2026-1", "ocr-2026-1"])
def test_libreoffice_opens_the_draft(setting, tmp_path, group_id):
    instance, plan = setting
    src = tmp_path / "a.docx"
    make = agreement_docx if group_id.startswith("rpa") else memorandum_docx
    src.write_bytes(make(instance, plan, group_id))
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
    return text[text.index("第4条") : text.index("（精算）")]


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
    groups = [g for g in plan.groups if g.mode == "lead"]
    assert groups
    for group in groups:
        data = agreement_docx(instance, plan, group.id)
        text, rows = text_of(data)
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
        # the bases as 別表第1 prints them (and as the instance has them)
        table_1 = annex(data, "構成団体", "人口（人）")[1:-1]
        bases = {
            "equal": [Fraction(1)] * len(needs),
            "population": [Fraction(yen(r[1])) for r in table_1],
            "volume": [Fraction(r[2].replace(",", "")) for r in table_1],
        }
        assert bases["population"] == [instance.bodies[n.body].population for n in needs]
        assert bases["volume"] == [Fraction(str(n.volume)) for n in needs]
        ratios = [sum(weights[k] * bases[k][i] / sum(bases[k]) for k in bases) for i in range(len(needs))]
        lead = [i for i, n in enumerate(needs) if n.body == group.lead_body]
        order = lead + [i for i in range(len(needs)) if i not in lead]
        initial = _largest_remainder(group.cost.initial_yen, ratios, order)
        annual = _largest_remainder(group.cost.annual_yen, ratios, order)
        by_body: dict[str, dict[str, list[int]]] = {}
        for row in annex(data, "構成団体", "区分")[1:-1]:
            by_body.setdefault(row[0].split("（")[0], {})[row[1]] = [yen(c) for c in row[2:-1]]
        basis = {r[0].split("（")[0]: r for r in annex(data, "構成団体", "人口（人）")[1:-1]}
        assert len(by_body) == len(needs) == len(basis)
        for i, n in enumerate(needs):
            name = instance.bodies[n.body].name
            annex_row = by_body[name]
            by_hand = [initial[i] + annual[i]] + [annual[i]] * (instance.horizon_years - 1)
            extra = annex_row.get("うち調整額", [0] * len(by_hand))
            assert ("うち調整額" in annex_row) == adjusted
            assert annex_row["負担額"] == [h + e for h, e in zip(by_hand, extra, strict=True)], (group.id, n.body)
            # 別表第1 gives the bases 第4条 divides by and the initial and yearly amounts
            assert yen(basis[name][1]) == instance.bodies[n.body].population
            if not adjusted:
                assert [yen(basis[name][3]), yen(basis[name][4])] == [initial[i], annual[i]]
        for text_part in (text, *(c for r in rows for c in r)):
            assert not re.search(r"\d,\d{3}\.\d", text_part), text_part  # no fractional yen
        # the PDF states the same 第4条 and 別表 (one text): every line of the draft, in order
        from planner.reports.agreement import agreement_draft, agreement_pdf

        draft = agreement_draft(instance, plan, group.id)
        body = _pdf_body(agreement_pdf(instance, plan, group.id), draft.title)
        at = 0
        for line in (re.sub(r"\s+", "", x).replace("案", "") for x in draft.text()[1:]):
            at = body.index(line, at) + len(line)
        assert not re.search(r"\d,\d{3}\.\d", body)


def test_the_grant_article_and_its_annex_agree(formula_plans, setting):
    """第7条 passes the grant through by initial shares (largest remainder, ties to the lead, then the 別表's order):
    applied by hand to 別表第1's initial amounts and the grant's total, it gives 別表第3; and the 別表第2's 負担額 are
    the shares before any grant (their total is the group's cost), as 第7条 says."""
    instance, plans = formula_plans
    cases = [(instance, plans["rule"], g) for g in plans["rule"].groups if g.mode == "lead"]
    cases.append((*setting, next(g for g in setting[1].groups if g.id == "rpa-2026-1")))
    checked = 0
    for inst, plan, group in cases:
        data = agreement_docx(inst, plan, group.id)
        text, _ = text_of(data)
        years = annex(data, "構成団体", "区分")
        assert yen(years[-1][-1]) == group.cost.total_yen  # before grant: the whole cost
        lines = member_lines(inst, group)
        if not any(ln.grant_yen for ln in lines):
            assert "別表第3" not in text
            continue
        assert "補助金は負担額から差し引かない" in text and "初期費用の負担額" in text
        assert "交付額の確定" in text and "返還" in text
        basis = annex(data, "構成団体", "人口（人）")[1:-1]
        grants = annex(data, "構成団体", "初期費用の負担額（円）")
        initial = [Fraction(yen(r[3])) for r in basis]
        assert [yen(r[1]) for r in grants[1:-1]] == [int(i) for i in initial]
        lead = [i for i, r in enumerate(basis) if "（幹事団体）" in r[0]]
        order = lead + [i for i in range(len(basis)) if i not in lead]
        total = yen(grants[-1][2])
        assert [yen(r[2]) for r in grants[1:-1]] == _largest_remainder(total, initial, order)
        assert [yen(r[2]) for r in grants[1:-1]] == [ln.grant_yen for ln in lines]
        checked += 1
    assert checked


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
    assert "長野県を幹事団体とする" in text and "補助金の交付の申請" not in text and "別表第3" not in text
    assert "補助金の交付を受けない（" in text and "都道府県" in text[text.index("補助金の交付を受けない") :]
    lead_city = next(g for g in plan.groups if g.mode == "lead" and g.lead_body != "200000")
    assert "補助金の交付の申請" in text_of(agreement_docx(instance, plan, lead_city.id))[0]
    # the prefecture hosts without using the system: it bears nothing and the formula counts the others only
    assert "負担額を負わない" in text and "各負担団体の負担額" in text


def test_article_5_states_the_settlement_the_lead_computes(formula_plans):
    """第5条 read as written (each year's contract amount split by 第4条's割合, or by 別表第2's amounts of that year
    where the shares carry a 調整額; the largest remainder, the lead first) gives the 確定負担額 that
    planner.domain.contract_settlement computes from the same contract."""
    from datetime import date

    from planner.domain.contract_settlement import ContractResult, confirm_shares, lead_work_by_year

    instance, plans = formula_plans
    for core, plan in plans.items():
        for group in (g for g in plan.groups if g.mode == "lead"):
            data = agreement_docx(instance, plan, group.id)
            text, _ = text_of(data)
            settlement = text[text.index("第5条") : text.index("（負担金の請求及び納付）")]
            by_formula = re.search(r"第4条第\d項に定める割合", settlement) is not None
            assert by_formula != ("別表第2に掲げる当該年度の各構成団体の負担額の比" in settlement)
            years = annex(data, "構成団体", "区分")
            fiscal = list(range(group.start_year, group.start_year + instance.horizon_years))
            contract = ContractResult(
                "事業者", date(group.start_year, 6, 1), {fy: 1_000_003 * (k + 7) for k, fy in enumerate(fiscal)}
            )
            confirmed = confirm_shares(instance, group, contract)
            work = lead_work_by_year(instance, group)
            needs = [instance.need(n) for n in group.members]
            lead = [i for i, n in enumerate(needs) if n.body == group.lead_body]
            order = lead + [i for i in range(len(needs)) if i not in lead]
            if by_formula:
                article = _article_4(text)
                stated = article[: article.index("の割合により按分")].rsplit("それぞれ", 1)[1]
                found = dict(re.findall(r"(均等割|人口割|利用量割)([\d.]+)%", stated))
                weights = {key: Fraction(found.get(name, "0")) / 100 for name, key in PARTS.items()}
                table_1 = annex(data, "構成団体", "人口（人）")[1:-1]
                bases = {
                    "equal": [Fraction(1)] * len(needs),
                    "population": [Fraction(yen(r[1])) for r in table_1],
                    "volume": [Fraction(r[2].replace(",", "")) for r in table_1],
                }
                ratios = [sum(weights[k] * bases[k][i] / sum(bases[k]) for k in bases) for i in range(len(needs))]
            for k, fy in enumerate(fiscal):
                if not by_formula:
                    ratios = [Fraction(yen(r[2 + k])) for r in years[1:-1] if r[1] == "負担額"]
                by_hand = _largest_remainder(contract.amounts_by_year[fy] + work[fy], ratios, order)
                assert by_hand == [s.years[k].confirmed_yen for s in confirmed.shares], (core, group.id, fy)


def test_every_annex_repeats_its_head_row_on_the_next_page(setting):
    """A 19-member 別表 runs onto a second page: its head row is marked to repeat there."""
    from docx.oxml.ns import qn

    instance, plan = setting
    for make, group_id in ((agreement_docx, "rpa-2026-1"), (memorandum_docx, "ocr-2026-1")):
        doc = Document(io.BytesIO(make(instance, plan, group_id)))
        for table in doc.tables:
            tr_pr = table.rows[0]._tr.trPr
            assert tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None


def test_the_population_base_date_is_read_from_the_data_source_as_it_is_written():
    from datetime import date

    from planner.reports.agreement_rule import population_base_date
    from planner.reports.control import DEFAULT_DATA_SOURCE

    shipped = (
        "人口：総務省「令和4年1月1日住民基本台帳人口・世帯数、令和3年(1月1日から同年12月31日まで)人口動態(市区町村別)"
        "(総計)」（同梱の加工データ、2026-11-30 作成）（2022年01月01日現在）、財政力指数：総務省「主要財政指標"
        "(令和3年度)」（政府標準利用規約（第2.0版）に基づき利用・加工）"
    )
    assert population_base_date(shipped) == date(2022, 1, 1)
    # a source without the import's date: the date in the statistics' own title
    assert population_base_date("人口：総務省「令和7年1月1日住民基本台帳人口」、財政力指数：x") == date(2025, 1, 1)
    assert population_base_date(DEFAULT_DATA_SOURCE) is None


def _pdf_body(data: bytes, title: str) -> str:
    """The PDF's text without what each page's margins repeat (the title, 金額は見込額です, the 文書番号 and page
    number) nor the 案 watermark, whitespace removed: the document's own text, in order."""
    import pypdf

    pages = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        text = re.sub(r"\s+", "", page.extract_text())
        text = re.sub(r"[^ぁ-んァ-ヶー一-龠]*-\w+-[\w-]+\d+/\d+ページ$", "", text)
        pages.append(text.replace("金額は見込額です", "").replace(re.sub(r"\s+", "", title), ""))
    return "".join(pages).replace("案", "")


@pytest.mark.parametrize(
    "make_draft, make_pdf, make_docx, group_id",
    [
        ("agreement_draft", "agreement_pdf", "agreement_docx", "rpa-2026-1"),
        ("memorandum_draft", "memorandum_pdf", "memorandum_docx", "ocr-2026-1"),
    ],
)
def test_the_pdf_and_the_word_file_say_the_same_text(setting, make_draft, make_pdf, make_docx, group_id):
    """One text, two outputs: every article, 項 and 号 (numbered 第N条, ２, （1）), the signatures, each 別表's cells and
    notes and the 別記 of the draft appear in the PDF in the draft's order, and the Word file's paragraphs and
    table cells are the same lines."""
    from planner.reports import agreement, memorandum

    instance, plan = setting
    module = agreement if make_draft.startswith("agreement") else memorandum
    draft = getattr(module, make_draft)(instance, plan, group_id)
    lines = [re.sub(r"\s+", "", line).replace("案", "") for line in draft.text()[1:]]
    body = _pdf_body(getattr(module, make_pdf)(instance, plan, group_id), draft.title)
    at = 0
    for line in lines:
        found = body.find(line, at)
        assert found >= 0, (line, body[at : at + 200])
        at = found + len(line)
    doc = Document(io.BytesIO(getattr(module, make_docx)(instance, plan, group_id)))
    word = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    word_text = "".join(re.sub(r"\s+", "", w) for w in word).replace("案", "")
    for line in lines:
        assert line in word_text, line
    # the articles are numbered as 例規 are: 第N条 first, then the 項 in full-width figures
    assert re.search(r"第3条.+２.+３.+第4条.+２", body) and "第1条この" in body.replace("　", "")


def test_the_drafts_pdf_is_registered_like_the_other_documents(setting):
    """The ZIP, planner report and the web's document route carry each draft as PDF and Word, from one text."""
    from planner.reports.bundle import Document as Doc
    from planner.reports.bundle import document_files, render_document
    from planner.reports.kind_renderers import RENDERERS

    instance, plan = setting
    for kind, key in (("agreement", "rpa-2026-1"), ("memorandum", "ocr-2026-1")):
        assert set(RENDERERS[kind].downloads) == {"pdf", "docx"}
        names = document_files(instance, plan, Doc(kind, key))
        assert [n.rsplit(".", 1)[1] for n in names] == ["pdf", "docx"]
        files = dict(render_document(instance, plan, None, Doc(kind, key)))
        assert files[names[0]][:5] == b"%PDF-" and files[names[1]][:2] == b"PK"
        from .helpers import pdf_fonts

        assert all("IPAex" in f for f in pdf_fonts(files[names[0]])), pdf_fonts(files[names[0]])
