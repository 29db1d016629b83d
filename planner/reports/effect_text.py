"""The wording of an effect estimate (導入効果の見込み), one place for the pages, the need form and the documents.

Every sentence says 見込み, gives the range, and the pages add the model's caveat (hand-picked good cases) and that
the body's own baseline improves the estimate."""

from __future__ import annotations

from dataclasses import dataclass

from planner.domain.effects import ESTIMATE, MoneyEffect, NeedEffect, Range

BASIS_LABELS = {
    "model": "事例の値による見込み",
    "own_minutes": "団体の現状値（1単位あたりの時間）による見込み",
    "own_hours": "団体の現状値（年間作業時間）による見込み",
}
OWN_BASELINE_HINT = (
    "団体自身の現状値（1単位あたりの作業時間、年間の作業時間）をニーズに入力すると、見込みが実情に近づきます。"
)


def _num(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def range_text(r: Range | None, unit: str, digits: int = 0) -> str:
    """「223〜1,114時間（中位 668時間）」; one figure when the ends agree."""
    if r is None:
        return "—"
    low, central, high = _num(r.low, digits), _num(r.central, digits), _num(r.high, digits)
    if low == high:
        return f"{central}{unit}"
    return f"{low}〜{high}{unit}（中位 {central}{unit}）"


def hours_text(e: NeedEffect | None) -> str:
    """The short cell for tables: the hours range, or why there is none."""
    if e is None:
        return "—"
    if e.status != ESTIMATE or e.hours is None:
        return "見込みなし（現状値が必要）" if e.status == "needs_own_figure" else "見込みなし"
    return "年 " + range_text(e.hours, "時間")


def yen_per_hour_text(m: MoneyEffect | None) -> str:
    if m is None or m.yen_per_hour is None:
        return "—"
    return range_text(m.yen_per_hour, "円")


def _years(v: float | None) -> str:
    return "0.1年未満" if v is not None and v < 0.1 else f"{_num(v, 1)}年"


def payback_text(m: MoneyEffect | None) -> str:
    if m is None or m.payback_years is None:
        return "—"
    p = m.payback_years
    if p.low is None:
        return "人件費換算では回収できない見込み"
    central = "" if p.central is None else f"（中位 {_years(p.central)}）"
    if p.high is None:
        return f"{_years(p.low)}〜{central}（少ない見込みでは回収できない）"
    if _years(p.low) == _years(p.high):
        return _years(p.central)
    return f"{_years(p.low)}〜{_years(p.high)}{central}"


@dataclass(frozen=True)
class EffectLines:
    headline: str
    lines: tuple[str, ...]
    cases: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"headline": self.headline, "lines": list(self.lines), "cases": list(self.cases)}


def effect_lines(
    e: NeedEffect, *, joint_label: str = "共同調達", standalone_label: str = "単独調達", net_known: bool = True
) -> EffectLines:
    """Sentences for one need's estimate: hours, yen per hour saved (joint and alone), value and payback."""
    if e.status != ESTIMATE or e.hours is None:
        return EffectLines(
            "時間の見込みはありません" if e.status != "needs_own_figure" else "現状値を入力すると見込みを示します",
            (e.message,),
            e.cases,
        )
    # The message's first sentence is the headline; the rest says how it was computed.
    how = e.message.split("。", 1)[1] if "。" in e.message else e.message
    lines = [BASIS_LABELS.get(e.basis, "") + ("：" + how if how else "")]
    burden = (
        "年あたりの実質負担（特別交付税の見込額を差し引いた額。補助金は採択されない場合）"
        if net_known
        else "年あたりの負担（補助金・特別交付税の見込額は含みません）"
    )
    for label, money in ((joint_label, e.joint), (standalone_label, e.standalone)):
        if money is not None:
            lines.append(
                f"{label}: 削減1時間あたり {yen_per_hour_text(money)}（{burden} {money.yearly_net_yen:,}円 ÷ 削減時間）"
            )
    if e.staff_cost_per_hour_yen:
        lines.append(
            f"人件費単価 {e.staff_cost_per_hour_yen:,}円/時間で換算すると年 "
            f"{range_text(e.value_yen_per_year, '円')}相当"
        )
        for label, money in ((joint_label, e.joint), (standalone_label, e.standalone)):
            if money is not None and money.payback_years is not None:
                lines.append(f"{label}の初期負担の回収期間: {payback_text(money)}（人件費換算の見込み）")
    else:
        lines.append(
            "人件費単価が未設定のため、時間のみ示しています（団体または都道府県の単価を設定すると円に換算します）。"
        )
    return EffectLines("年 " + range_text(e.hours, "時間") + "の削減見込み", tuple(x for x in lines if x), e.cases)


# Jinja globals for the pages and the documents (registered by planner.web.layout and planner.reports.render).
TEMPLATE_HELPERS = {
    "effect_range": range_text,
    "effect_yen_per_hour": yen_per_hour_text,
    "effect_payback": payback_text,
    "effect_basis_labels": BASIS_LABELS,
}
