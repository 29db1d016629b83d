"""The 覚書（案） of a 仕様統一方式 group: its members agree on one specification and each procures on its own.

No body pays another here (each contracts, inspects and pays under its own rules and budget), so the document is
lighter than the 協定書 and states no 負担金: the coordinator (取りまとめ団体) drafts the common specification and
collects reference quotations, and the 別表 gives each body's expected contract amount at the joint reference
prices (見込額, for its own budget), marked as owed to no other body.
"""

from __future__ import annotations

from planner.domain.model import Instance
from planner.domain.settled_plan import SettledPlan
from planner.domain.statements import need_schedules
from planner.domain.vocabulary import wareki_fiscal_year

from .agreement import grant_exclusion, joined, parties_of, signatures, year_annex
from .context import ReportError, ReportMeta, find_group, group_report
from .drafts import Draft, draft_docx, draft_html
from .pdf import html_to_pdf

MEMORANDUM_BASIS = (
    "この覚書は、地方自治法（昭和22年法律第67号）第2条第14項の趣旨を踏まえ、参加団体が調達の事務の連携について"
    "確認するものであり、参加団体の相互間に金銭の支払の義務を生じさせるものではない。また、同法第252条の2の2第1項の"
    "協議会の設置、同法第252条の14第1項の事務の委託その他同法第2編第11章第3節に規定する普通地方公共団体相互間の"
    "協力の方式によるものではない。"
)


def memorandum_docx(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> bytes:
    """The 覚書（案） as Word, for the bodies' legal sections to edit."""
    return draft_docx(memorandum_draft(instance, plan, group_id, meta))


def memorandum_html(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> str:
    """The HTML the 覚書（案）'s PDF is laid out from: the same draft as the Word file."""
    return draft_html(memorandum_draft(instance, plan, group_id, meta))


def memorandum_pdf(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> bytes:
    return html_to_pdf(memorandum_html(instance, plan, group_id, meta))


def memorandum_draft(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> Draft:
    group = find_group(plan, group_id)
    if group.mode != "unified":
        raise ReportError(f"グループ {group_id} は仕様統一方式ではないため覚書はありません")
    r = group_report(instance, plan, group, meta)
    schedules = need_schedules(instance, group)
    years = [y.fiscal_year for y in schedules[0].years]
    role = r.lead_role
    parties = parties_of(r)
    end = years[-1]
    doc = Draft("memorandum", r, f"{r.category_name}の仕様統一による調達に関する覚書（案）")
    doc.recital(
        f"{joined(parties)}（以下「参加団体」という。）は、{r.category_name}（以下「対象システム」という。）の調達に"
        "当たり、仕様を統一し、各参加団体がそれぞれ調達すること（仕様統一方式）について、次のとおり覚書を交わす。"
        + MEMORANDUM_BASIS
    )
    doc.article(
        1,
        "目的",
        "この覚書は、参加団体が対象システムの仕様を統一して調達することにより、仕様書の作成及び事業者との調整に"
        "要する事務を効率化し、調達に要する経費の節減を図ることを目的とする。",
    )
    doc.article(
        2,
        f"{role}",
        f"参加団体は、{r.lead_name}を{role}とする。",
        (
            f"{role}は、次に掲げる事務を行う。",
            [
                "共通仕様書の案の作成及び参加団体との調整",
                "事業者からの参考見積の徴取及び参考価格の取りまとめ",
                "参加団体との連絡調整",
            ],
        ),
    )
    doc.article(
        3,
        "共通仕様書",
        f"参加団体は、{role}が作成した案を基に協議して、対象システムの共通仕様書を定める。",
        "各参加団体は、共通仕様書の内容を変更しない範囲で、自らの事情に応じた仕様を付加することができる。",
        "共通仕様書には、個人情報取扱特記事項その他の情報セキュリティに関する事項を含める。",
    )
    doc.article(
        4,
        "参考価格",
        f"{role}は、共通仕様書に基づき事業者から参考見積を徴取し、参加団体の数及び利用見込量に応じた参考価格を"
        "取りまとめ、参加団体に示す。",
        "別表第2の額は、参考価格に基づく各参加団体の契約金額の見込額であり、各参加団体が自らの予算の見積り及び予定価格の"
        "設定に用いる参考とする。参加団体を拘束するものではない。",
    )
    doc.article(
        5,
        "調達及び契約",
        "各参加団体は、共通仕様書に基づき、地方自治法その他の法令及び自らの契約に関する規則の定めるところにより、"
        "それぞれ調達し、契約を締結する。",
        "契約の履行の監督及び検査並びに代金の支払は、各参加団体が自らの契約について行う。",
    )
    doc.article(
        6,
        "経費",
        "各参加団体は、自らの契約に要する経費を、各年度の自らの予算の定めるところにより負担する。",
        f"参加団体の相互間では、負担金その他の金銭の授受は行わない。{role}の事務に要する経費は、{role}が負担する。",
    )
    grant = (
        "補助金の交付の申請は、各参加団体が自らの事業の実施主体として行う。"
        if grant_exclusion(group) is None
        else "補助金の交付の申請は、補助の対象となる参加団体が自らの事業の実施主体として行う。"
    )
    doc.article(7, "補助金", grant)
    doc.article(
        8,
        "情報の共有",
        "参加団体は、調達の結果、運用上の課題その他の対象システムの利用に関する情報を相互に提供し、共有する。"
        "ただし、個人情報及び各参加団体が非公開とすべき情報を除く。",
    )
    doc.article(
        9,
        "離脱",
        "参加団体は、他の参加団体に書面で通知して、この覚書から離脱することができる。この場合において、離脱した参加"
        "団体及び他の参加団体は、相互に金銭の支払を求めない。",
    )
    doc.article(
        10,
        "有効期間",
        f"この覚書の有効期間は、締結の日から{wareki_fiscal_year(end)}の末日（{end + 1}年3月31日）までとする。",
    )
    doc.article(11, "協議", "この覚書に定めのない事項及びこの覚書に関し疑義が生じた事項は、参加団体が協議して定める。")
    signatures(doc, instance, r, parties, "覚書", "記名押印")

    doc.annex_title("別表第1　参考価格の内訳（見込額）", new_page=True)
    rows = [[line.label, line.detail, f"{line.yen:,}"] for line in (*r.initial_lines, *r.annual_lines)]
    doc.grid(["項目", "算定", "金額（円）"], rows, [40, 88, 32], 2)
    doc.note(
        f"初期費用 {r.initial_yen:,}円、年間費用 {r.annual_yen:,}円（{r.meta.price_source or r.price_book_label}による"
        f"参考価格、参加団体{len(r.members)}団体の合計）。",
    )
    year_annex(
        doc,
        instance,
        group,
        r,
        schedules,
        None,
        years,
        "別表第2　各参加団体の契約金額の見込額（参考・参加団体相互間で授受する額ではない）",
        figure="見込額",
        party="参加団体",
    )
    return doc
