"""The agreement drafts a practitioner edits before the bodies sign (python-docx, である調).

A lead-mode group (幹事団体方式) gets a 協定書（案）: the recital naming what it is (a contract between the bodies, not
one of 地方自治法's forms of cooperation), 第4条 stating the rule its shares follow (planner.reports.agreement_rule)
with the population's base date, 精算 against the real contract price (the 別表 are 見込額), the grant passed
through by initial shares, each year's budget, withdrawal with recalculation and its costs, and the 個人情報取扱特記
事項 the lead attaches to its contract. A 仕様統一方式 group, whose members each contract on their own, gets the
lighter 覚書（案） instead (planner.reports.memorandum): no amounts are owed between its bodies.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.domain.model import Instance
from planner.domain.settled_plan import SettledGroup, SettledPlan
from planner.domain.statements import need_schedules
from planner.domain.vocabulary import METHOD_LABELS, wareki_fiscal_year

from .agreement_rule import adjustments, population_basis, rule_articles, share_rule
from .context import GroupReport, ReportError, ReportMeta, find_group, group_report
from .control import file_name
from .drafts import Appendix, Draft, Paragraph, draft_docx, draft_html, year_grid
from .names import safe_name
from .pdf import html_to_pdf


def agreement_file(r: GroupReport) -> str:
    """協定書案_AI-OCR（文字認識）_長野市_令和8年度 (category, lead, start year; the group id keeps it unique)."""
    category = r.category_name.split("（", 1)[0]
    return file_name("agreement", category, r.lead_name, wareki_fiscal_year(r.start_year), r.group_id) + ".docx"


def signatures(doc: Draft, instance: Instance, r: GroupReport, parties: Sequence[str], what: str, verb: str) -> None:
    """The closing sentence, the date and each party's 長 with a seal."""
    doc.signatures(
        f"この{what}の締結を証するため、本書{len(parties)}通を作成し、各当事者{verb}の上、各自1通を保有する。",
        [_head(instance, r, name) for name in parties],
    )


def parties_of(r: GroupReport) -> list[str]:
    return [m.body_name for m in r.members] + ([] if r.lead_is_member else [r.lead_name])


def joined(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "及び" + names[-1]


RECITAL_BASIS = (
    "この協定は、地方自治法（昭和22年法律第67号）第2条第14項の趣旨を踏まえ、構成団体が対等の立場で締結する契約"
    "であり、同法第252条の2の2第1項の協議会の設置、同法第252条の14第1項の事務の委託その他同法第2編第11章第3節に"
    "規定する普通地方公共団体相互間の協力の方式によるものではない。"
)


def agreement_docx(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> bytes:
    """The 協定書（案） as Word, for the bodies' legal sections to edit."""
    return draft_docx(agreement_draft(instance, plan, group_id, meta))


def agreement_html(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> str:
    """The HTML the 協定書（案）'s PDF is laid out from: the same draft as the Word file."""
    return draft_html(agreement_draft(instance, plan, group_id, meta))


def agreement_pdf(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> bytes:
    return html_to_pdf(agreement_html(instance, plan, group_id, meta))


def agreement_draft(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> Draft:
    """The 協定書（案） of a lead-mode group (幹事団体方式): one contract by the lead, the members' 負担金 by the rule
    of 第4条, 精算 against the real contract price, the grant passed through by initial shares, budgets year by year,
    a 個人情報取扱特記事項 for the lead's contract, and withdrawal with recalculation and its costs."""
    group = find_group(plan, group_id)
    if group.mode == "standalone":
        raise ReportError(f"グループ {group_id} は単独調達のため協定書はありません")
    if group.mode != "lead":
        raise ReportError(
            f"グループ {group_id} は仕様統一方式（各団体が自ら契約）のため協定書はありません。覚書（案）を作成します"
        )
    r = group_report(instance, plan, group, meta)
    schedules = need_schedules(instance, group)
    years = [y.fiscal_year for y in schedules[0].years]
    lead_role = r.lead_role
    parties = parties_of(r)
    category = instance.categories[group.category]
    rule = share_rule(group)
    no_grant = grant_exclusion(group)
    grant_total = sum(m.grant_yen for m in r.members)
    work_yen = instance.allocation.lead_work_annual_yen.get("lead", 0)
    end = years[-1]

    doc = Draft("agreement", r, f"{r.category_name}の共同調達に関する協定書（案）")
    doc.recital(
        f"{joined(parties)}（以下「構成団体」という。）は、{r.category_name}（以下「対象システム」という。）を共同で"
        "調達し、利用することについて、次のとおり協定を締結する。" + RECITAL_BASIS
    )

    doc.article(
        1,
        "目的",
        "この協定は、構成団体が対象システムを共同で調達し、及び利用するために必要な事項を定め、調達及び運用に要する"
        "経費の節減と事務の効率化を図ることを目的とする。",
    )
    doc.article(
        2,
        "対象業務",
        f"この協定の対象とする業務（以下「対象業務」という。）は、{lead_role}が一の契約により対象システムを調達し、"
        f"構成団体がこれを利用すること（{r.mode_label}）とする。",
        f"対象業務の期間は、{wareki_fiscal_year(years[0])}から{wareki_fiscal_year(end)}までの{len(years)}年度とする。",
        "対象業務の仕様は、構成団体が協議して定める。",
    )
    duties = [
        "対象業務に係る契約の締結並びにその履行の監督及び検査",
        "構成団体の負担金の算定、請求、収納及び精算",
        *([] if no_grant else ["補助金の交付の申請、実績の報告その他補助金に関する事務"]),
        "契約に付する個人情報取扱特記事項に基づく事業者の監督",
        "構成団体との連絡調整その他対象業務の実施に必要な事務",
    ]
    doc.article(
        3,
        f"{lead_role}",
        f"構成団体は、{r.lead_name}を{lead_role}とする。",
        (f"{lead_role}は、次に掲げる事務を行う。", duties),
    )
    basis_sentence = (
        f"対象業務に要する経費は、{lead_role}が締結する契約の金額"
        + (f"に、{lead_role}の事務に要する経費として年額{work_yen:,}円を加えた額" if work_yen else "")
        + "とし、初期費用（導入及び構築に要する経費）と年間費用（各年度の利用及び運用に要する経費）に分ける。"
    )
    # A host (a prefecture leading for its municipalities) bears no share: the formula counts the others only.
    payer = "構成団体" if r.lead_is_member else "負担団体"
    formula_no = 2 if r.lead_is_member else 3  # 第4条's 項: the cost, (the host,) the formula, the rounding
    host_sentence = (
        []
        if r.lead_is_member
        else [
            f"{r.lead_name}は、対象システムを自ら利用しない{lead_role}として契約を締結し、負担額を負わない。この条及び"
            f"次条において、{r.lead_name}以外の構成団体を「負担団体」という。"
        ]
    )
    doc.article(
        4,
        "負担額の算定",
        basis_sentence,
        *host_sentence,
        *rule_articles(
            rule,
            lead_role,
            METHOD_LABELS.get(r.method, r.method),
            population_basis(r.control.data_source),
            category.unit,
            payer,
            formula_no,
        ),
        "別表第1及び別表第2の額は、"
        + f"{r.meta.price_source or r.price_book_label}による参考価格に基づく見込額であり、各構成団体の負担額は、"
        "次条の規定により契約の金額に基づいて精算する。初期費用の負担は導入年度に、年間費用の負担は各年度に属する。",
    )
    doc.article(
        5,
        "精算",
        f"{lead_role}は、対象業務に係る契約を締結したときは、各年度の対象業務に要する経費（契約の金額のうち当該年度"
        "に支払う額"
        + (f"に{lead_role}の事務に要する経費を加えた額" if work_yen else "")
        + "をいう。）を、"
        + (
            f"第4条第{formula_no}項に定める割合"
            if rule is not None and not rule.adjusted
            else "別表第2に掲げる当該年度の各構成団体の負担額の比"
        )
        + f"により按分し（1円未満の端数は、第4条第{formula_no + 1}項の例による。）、各構成団体の当該年度の負担額"
        "（以下「確定負担額」という。）として構成団体に通知する。",
        f"{lead_role}は、毎年度終了後、当該年度に実際に支払った経費の額により前項の規定の例により当該年度の確定負担額を"
        "算定し、当該年度に請求した負担金の額との差額を精算する。請求した額が確定負担額を超えるときはその差額を還付し、"
        "不足するときはその差額を追加して請求する。",
        *(
            ["前2項の算定に用いる人口及び年間利用量は、別表第1に掲げるものとする。"]
            if rule is not None and not rule.adjusted and (rule.weights.get("population") or rule.weights.get("volume"))
            else []
        ),
    )
    doc.article(
        6,
        "負担金の請求及び納付",
        f"{lead_role}は、毎年度、当該年度の負担金の額（前条の規定による精算を含む。）を構成団体に通知し、請求する。",
        "構成団体は、前項の請求を受けた日から30日以内に、負担金を" + f"{lead_role}に納付する。",
    )
    grant_paragraphs: list[Paragraph]
    if no_grant:
        grant_paragraphs = [
            f"対象業務は、{lead_role}が補助の対象とならないため、国庫補助金の交付を受けない（{no_grant}）。"
            "構成団体は、対象業務に係る経費について、個別に補助金の交付を申請しない。",
            "第4条の負担額は、補助金を含まない額とする。",
        ]
    else:
        grant_paragraphs = [
            f"{lead_role}は、対象業務について国庫補助金その他の補助金（以下「補助金」という。）の交付を受けるときは、"
            "対象業務全体の実施主体として申請する。",
            "第4条の負担額は、補助金の交付を受ける前の額とし、補助金は負担額から差し引かない。"
            f"{lead_role}は、交付の決定を受けた補助金の額を、別表第1に掲げる各構成団体の初期費用の負担額の比により按分し"
            f"（1円未満の端数は、第4条第{formula_no + 1}項の例による。）、当該構成団体に交付する。",
            "補助金の交付決定額と交付額の確定による額とが異なるときは、確定した額により前項の按分をやり直し、"
            "差額を精算する。",
            "補助金の全部又は一部の返還を求められたときは、構成団体は、返還額を第2項の比により負担する。ただし、返還の"
            "原因が特定の構成団体の責めに帰すべき事由によるときは、当該構成団体が負担する。",
            "補助金の按分の見込額は、補助金が採択された場合の見込額として別表第3に掲げる。",
        ]
    doc.article(7, "補助金の取扱い", *grant_paragraphs)
    doc.article(
        8,
        "予算の措置",
        "この協定に基づく各構成団体の負担金の支出は、各年度の各構成団体の予算の定めるところによる。",
        f"{lead_role}は、複数年度にわたる契約を締結するときは、地方自治法第214条の規定による債務負担行為の議決を"
        "経て、又は同法第234条の3の規定による長期継続契約として締結する。この場合において、当該契約には、翌年度以降に"
        "歳出予算の減額又は削除があったときは契約を変更し、又は解除することができる旨を定める。",
        "構成団体は、負担金に係る予算が成立しなかったとき、又は減額されたときは、直ちにその旨を他の構成団体に"
        "通知する。この場合において、構成団体は、対象業務の内容の変更、負担額の再算定又は当該構成団体の脱退その他"
        "必要な措置について協議する。",
    )
    doc.article(
        9,
        "契約",
        f"対象業務に係る契約は、{lead_role}が自らを当事者として、地方自治法その他の法令及び{r.lead_name}の契約に関する"
        "規則の定めるところにより締結する。",
        (
            f"{lead_role}は、前項の契約において、次に掲げる事項を定める。",
            [
                "構成団体が対象システムを利用できること",
                "別記の個人情報取扱特記事項",
                "成果物の権利の帰属（次条第3項）",
                "前条第2項の予算の減額又は削除の場合の契約の変更又は解除",
            ],
        ),
    )
    doc.article(
        10,
        "個人情報の保護及び成果物",
        "各構成団体は、対象業務において取り扱う自らの保有する個人情報について、個人情報の保護に関する法律（平成15年"
        "法律第57号）及び各構成団体の定めるところにより、その管理の責任を負う。",
        f"{lead_role}は、別記の個人情報取扱特記事項を契約に付し、事業者にこれを遵守させ、その遵守の状況を監督する。"
        f"構成団体は、{lead_role}を通じて事業者に報告を求め、又は調査を行うことができる。事故が生じたときは、"
        f"{lead_role}は、直ちに影響を受ける構成団体に通知し、構成団体と協力して対応する。",
        f"対象業務により作成された成果物（{_deliverables(group.category)}を含む。）に係る権利は、{lead_role}に帰属させる。"
        f"{lead_role}は、構成団体に対し、この協定の有効期間中及び脱退又は終了の後も、当該成果物を無償で利用させる。"
        "各構成団体の入力したデータは、当該構成団体に帰属する。",
    )
    doc.article(
        11,
        "脱退",
        "構成団体は、脱退しようとする年度の前年度の9月30日までに書面により他の構成団体に申し出て、当該年度の前年度"
        "の末日をもって脱退することができる。第8条第3項の協議により脱退する場合も、同様とする。",
        f"構成団体が脱退したときは、{lead_role}は、脱退の日の属する年度の翌年度以後の確定負担額を、残る構成団体に"
        "ついて第5条第1項の規定の例により算定し直し、構成団体に通知する。",
        "脱退に伴い契約の変更又は解除に要する費用（違約金、データの移行及び削除に要する費用を含む。）は、脱退した"
        "構成団体が負担する。既に納付した負担金は、第5条の精算による場合を除き、返還しない。",
    )
    doc.article(
        12,
        "加入",
        "新たに加入を希望する団体があるときは、構成団体が協議して加入を認めることができる。この場合において、"
        f"{lead_role}は、加入の日以後の負担額を第4条の規定により算定し直す。",
    )
    doc.article(
        13,
        "有効期間",
        f"この協定の有効期間は、締結の日から{wareki_fiscal_year(end)}の末日（{end + 1}年3月31日）までとする。",
        "前項の規定にかかわらず、第5条、第7条、第10条及び第11条第3項の規定は、有効期間の満了後もなお効力を有する。",
    )
    doc.article(14, "協議", "この協定に定めのない事項及びこの協定に関し疑義が生じた事項は、構成団体が協議して定める。")
    signatures(doc, instance, r, parties, "協定", "記名押印")

    _basis_annex(doc, instance, r, "別表第1　構成団体及び算定の基礎（見込額）", "負担額")
    year_annex(doc, instance, group, r, schedules, rule, years, "別表第2　年度別負担額（見込額・補助金の交付前）")
    if not no_grant and grant_total:
        doc.annex_title("別表第3　補助金の按分（補助金が採択された場合の見込額）")
        rows = [[_name(m, lead_role), f"{m.initial_yen:,}", f"{m.grant_yen:,}"] for m in r.members]
        rows.append(["合計", f"{sum(m.initial_yen for m in r.members):,}", f"{grant_total:,}"])
        doc.grid(["構成団体", "初期費用の負担額（円）", "補助金の按分額（円）"], rows, [52, 54, 54], 1)
        doc.note(
            f"補助金の見込額 {grant_total:,}円 を初期費用の負担額の比により按分した額（第7条第2項）。別表第2の負担額から"
            "差し引くものではない。",
        )
    _special_terms(doc, lead_role, group.category)
    return doc


def _volume(value: float) -> str:
    """A yearly volume: grouped when whole (12,000), else to two decimals without grouping (12.5), so that no
    volume reads like a yen amount with a fraction."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _name(m, role: str) -> str:
    return m.body_name + (f"（{role}）" if m.is_lead else "")


def _deliverables(category: str) -> str:
    """What the contract produces besides the licence, named so that its ownership is not argued later."""
    return {
        "rpa": "RPAのシナリオ、設定ファイル及び操作手順書",
        "ocr": "帳票定義、読取設定及び操作手順書",
    }.get(category, "設定ファイル、学習用に作成したデータ及び操作手順書")


def _basis_annex(doc: Draft, instance: Instance, r: GroupReport, title: str, word: str) -> None:
    """別表第1: each member's population and yearly volume (the bases of 第4条) and its initial and yearly amounts."""
    doc.annex_title(title, new_page=True)
    unit = instance.categories[r.category_id].unit
    rows = [
        [
            _name(m, r.lead_role),
            f"{m.population:,}" if m.population is not None else "—",
            _volume(m.volume),
            f"{m.initial_yen:,}",
            f"{m.annual_yen:,}",
        ]
        for m in r.members
    ]
    rows.append(
        [
            "合計",
            f"{sum(m.population or 0 for m in r.members):,}",
            _volume(sum(m.volume for m in r.members)),
            f"{r.initial_yen:,}",
            f"{r.annual_yen:,}",
        ]
    )
    head = ["構成団体", "人口（人）", f"年間利用量（{unit}）", f"初期費用の{word}（円）", f"年間費用の{word}（円）"]
    doc.grid(head, rows, [34, 24, 30, 36, 36], 1)
    doc.note(
        f"対象業務に要する経費の見込額：初期費用 {r.initial_yen:,}円、年間費用 {r.annual_yen:,}円（年額）、"
        f"{r.horizon_years}年間の総額 {r.total_yen:,}円（{r.meta.price_source or r.price_book_label}による参考価格）。"
        f"按分方法：{r.method_label}。人口：{population_basis(r.control.data_source).split('（', 1)[0]}。",
    )


def year_annex(
    doc: Draft,
    instance,
    group,
    r: GroupReport,
    schedules,
    rule,
    years,
    title: str,
    figure: str = "負担額",
    party: str = "構成団体",
) -> None:
    """別表第2: each member's 負担額 by fiscal year before any grant (第7条), and where the shares are the formula's
    plus a 調整額, the 調整額 too, so that 第4条 recomputed by hand gives each amount."""
    lead_role = r.lead_role
    gross = [[y.gross_yen for y in sch.years] for sch in schedules]
    extra = adjustments(instance, group, rule, years, gross) if rule is not None and rule.adjusted else None
    annex_rows: list[tuple[str, str, list[int]]] = []  # (body, figure, amounts by year and their total)
    for k, sch in enumerate(schedules):
        name = sch.line.body_name + (f"（{lead_role}）" if sch.line.is_lead else "")
        annex_rows.append((name, figure, [*gross[k], sch.line.total_yen]))
        if extra is not None:
            annex_rows.append((name, "うち調整額", [*extra[k], sum(extra[k])]))
    amounts = [sum(g[j] for g in gross) for j in range(len(years))]
    annex_rows.append(("合計", figure, [*amounts, sum(sch.line.total_yen for sch in schedules)]))
    head = [party, "区分", *map(wareki_fiscal_year, years), "合計（円）"]
    note = (
        f"調達方式：{r.mode_label}　{lead_role}：{r.lead_name}　按分方法：{r.method_label}。"
        f"初期費用の{figure}は導入年度に、年間費用の{figure}は各年度に計上している。"
    )
    doc.add(year_grid(title, head, annex_rows, figure, note))


def grant_exclusion(group: SettledGroup) -> str | None:
    """Why the lead-mode group can receive no grant (its lead's kind, as the estimates recorded it), or None."""
    grants = [s.joint.grant for s in group.subsidies.values()]
    if not grants or any(g.eligible for g in grants):
        return None
    return next((g.reason for g in grants if g.reason), "幹事団体が補助対象外")


def _head(instance: Instance, r: GroupReport, name: str) -> str:
    for m in r.members:
        if m.body_name == name:
            return m.body_head
    return r.lead_head


def _special_terms(doc: Draft, lead_role: str, category: str) -> None:
    """別記: the 個人情報取扱特記事項 the lead attaches to its contract (甲 the lead, 乙 the contractor), covering each
    member's data as well as the lead's: supervision, deletion, incidents, damages and the ownership of 成果物."""
    doc.add(Appendix("別記", "個人情報取扱特記事項"))
    doc.recital(
        f"この特記事項は、{lead_role}（以下「甲」という。）が締結する対象システムに係る契約（以下「本契約」という。）"
        "に付するものであり、受注者（以下「乙」という。）は、本契約の履行に当たり、甲及び構成団体の個人情報"
        "（個人情報の保護に関する法律第2条第1項に規定する個人情報をいう。以下同じ。）を次のとおり取り扱わなければ"
        "ならない。"
    )
    clauses: list[tuple[str, str]] = [
        (
            "基本的事項",
            "乙は、個人情報の保護の重要性を認識し、本契約の履行に当たっては、個人の権利利益を侵害することのない"
            "よう、個人情報の保護に関する法律その他の関係法令を遵守し、個人情報を適正に取り扱わなければならない。",
        ),
        (
            "秘密の保持",
            "乙は、本契約の履行に関して知り得た個人情報をみだりに他人に知らせ、又は不当な目的に利用してはならない。"
            "本契約が終了し、又は解除された後においても、同様とする。",
        ),
        (
            "目的外利用及び提供の禁止",
            "乙は、甲の指示がある場合を除き、本契約の履行に関して知り得た個人情報を本契約の目的以外の目的に利用し、"
            "又は第三者に提供してはならない。乙は、個人情報を機械学習その他の乙の製品又は役務の改良に用いてはならない。",
        ),
        (
            "安全管理措置",
            "乙は、個人情報の漏えい、滅失及び毀損の防止その他の適切な管理のために必要な措置を講じ、その内容を"
            "甲に書面で報告しなければならない。個人情報を取り扱う場所及びデータを保存する場所（国内に限る。）は、"
            "あらかじめ甲の承認を得たものとする。",
        ),
        (
            "従事者の監督",
            "乙は、個人情報を取り扱う従事者を定め、その者に対し、在職中及び退職後において本特記事項を遵守させる"
            "ための教育及び監督を行わなければならない。",
        ),
        (
            "再委託の制限",
            "乙は、甲の書面による承諾を得た場合を除き、個人情報の取扱いを第三者に委託してはならない。承諾を得て"
            "委託するときは、本特記事項と同等の義務を再委託先に課し、その履行を監督しなければならない。",
        ),
        (
            "複写及び複製の禁止",
            "乙は、甲の承諾を得た場合を除き、甲又は構成団体から提供された個人情報を複写し、又は複製してはならない。",
        ),
        (
            "返還及び削除",
            "乙は、本契約が終了し、若しくは解除されたとき、又は構成団体が脱退したときは、当該個人情報（当該構成団体"
            "に係るものに限る。）を甲の指示に従い返還し、又は復元できない方法により削除し、その結果を記載した証明書を"
            "甲に提出しなければならない。",
        ),
        (
            "事故発生時の報告",
            "乙は、個人情報の漏えい、滅失若しくは毀損その他の事故が生じ、又は生じたおそれがあることを知ったときは、"
            "直ちに甲に報告し、甲の指示に従わなければならない。甲は、影響を受ける構成団体に直ちに通知する。",
        ),
        (
            "監督及び調査",
            "甲は、必要があると認めるときは、乙に対し個人情報の取扱状況について報告を求め、又は作業場所に立ち入って"
            "調査することができる。構成団体から求めがあったときも、同様とする。乙は、これに協力しなければならない。",
        ),
        (
            "契約の解除及び損害賠償",
            "甲は、乙が本特記事項に違反したときは、本契約を解除することができる。乙は、本特記事項に違反したことにより"
            "甲、構成団体又は第三者に損害を与えたときは、その損害を賠償しなければならない。",
        ),
        (
            "成果物の帰属",
            f"本契約により作成された成果物（{_deliverables(category)}を含む。）の著作権（著作権法第27条及び第28条に"
            "規定する権利を含む。）その他の権利は、その引渡しの時に甲に帰属する。乙は、甲及び構成団体に対し著作者"
            "人格権を行使しない。甲は、構成団体に当該成果物を無償で利用させることができる。",
        ),
    ]
    for k, (caption, text) in enumerate(clauses, start=1):
        doc.article(k, caption, text)


# the drafts, and the parts the 覚書 (planner.reports.memorandum) is made of too
__all__ = [
    "Paragraph",
    "agreement_docx",
    "agreement_draft",
    "agreement_file",
    "agreement_html",
    "agreement_pdf",
    "grant_exclusion",
    "joined",
    "parties_of",
    "safe_name",
    "signatures",
    "year_annex",
]
