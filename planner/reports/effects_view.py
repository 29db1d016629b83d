"""A settled plan's effect estimates (導入効果の見込み) as the pages and documents show them: per need, summed per
category, body or group, and as a chart. Read from the plan's ``effects`` field only (no recomputation), so a page
and a document cannot differ."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.domain.effects import EffectEstimates, HoursTotal, NeedEffect, hours_totals, total_hours

from .effect_text import OWN_BASELINE_HINT, effect_lines, hours_text, range_text


@dataclass(frozen=True)
class PlanEffects:
    model_version: str
    caveat: str
    sources: tuple[str, ...]
    by_need: Mapping[str, NeedEffect] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)  # category id -> name
    need_category: Mapping[str, str] = field(default_factory=dict)
    need_body: Mapping[str, str] = field(default_factory=dict)
    body_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return bool(self.by_need)

    @property
    def own_baseline_hint(self) -> str:
        return OWN_BASELINE_HINT

    def of(self, need_id: str) -> NeedEffect | None:
        return self.by_need.get(need_id)

    def hours_text(self, need_id: str) -> str:
        return hours_text(self.of(need_id))

    def lines(self, need_id: str, **kwargs: Any):
        e = self.of(need_id)
        return None if e is None else effect_lines(e, **kwargs)

    def total(self, need_ids: Iterable[str]) -> HoursTotal:
        items = [self.by_need[n] for n in need_ids if n in self.by_need]
        with_hours = [e for e in items if e.hours is not None]
        return HoursTotal("", total_hours(with_hours), len(with_hours), len(items) - len(with_hours))

    def total_text(self, need_ids: Iterable[str]) -> str:
        t = self.total(need_ids)
        if t.hours is None:
            return "見込みなし"
        text = "年 " + range_text(t.hours, "時間")
        if t.without_hours:
            text += f"（ほかに見込みのないニーズ {t.without_hours} 件）"
        return text

    def by_category(self) -> list[tuple[str, HoursTotal]]:
        totals = hours_totals(self.by_need, lambda n: self.need_category.get(n, ""))
        order = list(self.categories)
        totals.sort(key=lambda t: order.index(t.key) if t.key in order else len(order))
        return [(self.categories.get(t.key, t.key), t) for t in totals]

    def reasons(self, need_ids: Iterable[str]) -> list[str]:
        """The distinct explanations of the needs among ``need_ids`` that have no hours, once each."""
        out: list[str] = []
        for n in need_ids:
            e = self.by_need.get(n)
            if e is not None and e.hours is None and e.message not in out:
                out.append(e.message)
        return out

    def missing_reason(self, total: HoursTotal) -> str:
        """Why some needs of a category have no hours: the survey has no figure, or the body's own is needed."""
        statuses = {
            e.status for n, e in self.by_need.items() if self.need_category.get(n) == total.key and e.hours is None
        }
        if "needs_own_figure" in statuses:
            return "団体の現状値（作業時間）を入力したニーズだけ見込みを示します（事例に1単位あたりの時間がないため）"
        return "事例に職員の作業時間の数値がないため、見込みを示しません"

    def by_body(self) -> list[tuple[str, str, HoursTotal]]:
        """(code, name, total) per body, most central hours first; bodies without hours last."""
        totals = hours_totals(self.by_need, lambda n: self.need_body.get(n, ""))
        totals.sort(key=lambda t: (t.hours is None, -(t.hours.central or 0) if t.hours else 0, t.key))
        return [(t.key, self.body_names.get(t.key, t.key), t) for t in totals]

    def chart_rows(self, totals: Iterable[tuple[str, HoursTotal]]) -> list[tuple[str, float, float, float]]:
        rows = []
        for label, t in totals:
            h = t.hours
            if h is not None and h.low is not None and h.central is not None and h.high is not None:
                rows.append((label, h.low, h.central, h.high))
        return rows


def effect_charts(effects: PlanEffects, *, width: int = 720, body_limit: int = 20) -> tuple[str | None, str | None]:
    """(by category, by body) range charts as SVG; None where nothing has hours. Bodies: the ``body_limit`` with the
    most central hours."""
    from planner.charts import hours_range_svg

    if not effects.present:
        return None, None
    categories = effects.chart_rows(effects.by_category())
    bodies = effects.chart_rows([(name, t) for _c, name, t in effects.by_body()][:body_limit])
    return (
        hours_range_svg(categories, width=width, title="分野別の削減時間の見込み（年間）") if categories else None,
        hours_range_svg(bodies, width=width, title="団体別の削減時間の見込み（年間）") if bodies else None,
    )


def plan_effects(instance: Any, estimates: EffectEstimates | None) -> PlanEffects:
    """The plan's estimates (``SettledPlan.effects``) with the instance's names; empty (``present`` false) for a
    plan without effects."""
    if estimates is None:
        return PlanEffects("", "", ())
    by_need = dict(estimates.needs)
    needs = {n.id: n for n in instance.needs}
    return PlanEffects(
        model_version=estimates.model_version,
        caveat=estimates.caveat,
        sources=estimates.sources,
        by_need=by_need,
        categories={cid: c.name for cid, c in instance.categories.items()},
        need_category={nid: needs[nid].category for nid in by_need if nid in needs},
        need_body={nid: needs[nid].body for nid in by_need if nid in needs},
        body_names={code: b.name for code, b in instance.bodies.items()},
    )
