"""Two plans side by side: their totals, and every body whose group (mode, lead, partners) or burden changed."""

from __future__ import annotations

from dataclasses import dataclass

from planner.domain.allocation import method_label
from planner.domain.model import JOINT_MODES
from planner.domain.vocabulary import wareki_fiscal_year

from .views import PlanView

GEOGRAPHY_WORDS = {"same_prefecture": "同一都道府県内", "radius_km": "幹事団体から {km:g} km 以内", "any": "制限なし"}


@dataclass(frozen=True)
class ConditionRow:
    label: str
    a: str
    b: str

    @property
    def differs(self) -> bool:
        return self.a != self.b


def _geography(view: PlanView) -> str:
    g = view.instance.rules.geography
    return GEOGRAPHY_WORDS.get(g.type, g.type).format(km=g.km or 0)


def _group_cap(view: PlanView) -> str:
    caps = {c.price(m).max_members for c in view.instance.categories.values() for m in JOINT_MODES if m in c.prices}
    if caps == {None}:
        return "上限なし"
    numbers = sorted(x for x in caps if x is not None)
    text = f"{numbers[0]} 団体" if len(numbers) == 1 else f"{numbers[0]}〜{numbers[-1]} 団体（分野・方式により異なる）"
    return text + ("（一部は上限なし）" if None in caps else "")


def _overrides(view: PlanView) -> str:
    r = view.instance.rules
    parts = [
        f"{label} {len(items)} 件"
        for label, items in (("共同", r.together), ("別グループ", r.apart), ("固定", r.fixed))
        if items
    ]
    return "、".join(parts) or "なし"


def conditions(view: PlanView) -> list[tuple[str, str]]:
    """The conditions a plan was solved under, in words, read from its own instance (not today's scenario)."""
    inst = view.instance
    alloc = inst.allocation
    return [
        ("対象団体", f"{len(inst.bodies)} 団体"),
        ("対象分野", "、".join(view.category_name(c) for c in sorted(inst.categories))),
        ("ニーズ", f"{len(inst.needs)} 件"),
        ("計画期間", f"各グループの導入年度から {inst.horizon_years} 年間"),
        ("基準年度（記録用）", wareki_fiscal_year(inst.fiscal_year)),
        ("地理的条件", _geography(view)),
        ("1グループの上限団体数", _group_cap(view)),
        ("幹事候補（ホスト）", "、".join(sorted(view.body_name(h.body) for h in inst.hosts)) or "なし"),
        ("按分方法", method_label(alloc.method, alloc.weights)),
        ("コア調整", "する" if alloc.core == "adjust" else "しない（報告のみ）"),
        ("共同・別グループ・固定の指定", _overrides(view)),
        ("単価", str(view.doc.get("price_source") or f"単価表 {view.price_book_version}（参考値）")),
        ("補助制度ルール", view.rule_version or "—"),
    ]


def compare_conditions(a: PlanView, b: PlanView) -> list[ConditionRow]:
    return [ConditionRow(label, x, y) for (label, x), (_, y) in zip(conditions(a), conditions(b), strict=True)]


@dataclass
class Placement:
    group_id: str
    mode: str
    lead_body: str
    partners: frozenset[str]  # the other member bodies
    total_yen: int
    net_without_grant_yen: int  # the headline net burden (the grant not awarded)

    def signature(self) -> tuple[str, str, frozenset[str]]:
        return (self.mode, self.lead_body, self.partners)


@dataclass
class BodyChange:
    body_code: str
    body_name: str
    category: str
    category_name: str
    a: Placement | None
    b: Placement | None

    @property
    def group_changed(self) -> bool:
        return (self.a.signature() if self.a else None) != (self.b.signature() if self.b else None)

    @property
    def net_diff_yen(self) -> int:
        return (self.b.net_without_grant_yen if self.b else 0) - (self.a.net_without_grant_yen if self.a else 0)

    @property
    def total_diff_yen(self) -> int:
        return (self.b.total_yen if self.b else 0) - (self.a.total_yen if self.a else 0)


@dataclass
class Comparison:
    a: PlanView
    b: PlanView
    changes: list[BodyChange]
    bodies_compared: int

    @property
    def condition_rows(self) -> list[ConditionRow]:
        return compare_conditions(self.a, self.b)

    @property
    def differing_conditions(self) -> list[str]:
        return [row.label for row in self.condition_rows if row.differs]

    @property
    def totals_rows(self) -> list[tuple[str, int | None, int | None]]:
        ta, tb = self.a.totals, self.b.totals
        return [
            ("単独導入の合計", ta.standalone_yen, tb.standalone_yen),
            ("共同調達後の総費用", ta.joint_yen, tb.joint_yen),
            ("削減額", ta.saving_yen, tb.saving_yen),
            ("特別交付税（見込額）", ta.special_tax_without_grant_yen, tb.special_tax_without_grant_yen),
            ("実質負担（見込額・補助金なし）", ta.net_without_grant_yen, tb.net_without_grant_yen),
            # the grant is a public call: its own 「採択された場合」 lines, never in the headline above
            ("補助金（採択された場合）", ta.grant_yen, tb.grant_yen),
            ("実質負担（採択された場合）", ta.net_yen, tb.net_yen),
            ("共同調達グループ数", sum(g.joint for g in self.a.groups), sum(g.joint for g in self.b.groups)),
        ]


def _placements(view: PlanView) -> dict[tuple[str, str], Placement]:
    out: dict[tuple[str, str], Placement] = {}
    for g in view.groups:
        codes = set(g.body_codes)
        for m in g.members:
            key = (m.body_code, g.group.category)
            p = out.get(key)
            if p is None:
                out[key] = Placement(
                    g.id,
                    g.group.mode,
                    g.group.lead_body,
                    frozenset(codes - {m.body_code}),
                    m.total_yen,
                    m.net_without_grant_yen,
                )
            else:  # several needs of one body in one category (different start years): add them up
                out[key] = Placement(
                    p.group_id + "," + g.id,
                    p.mode + "," + g.group.mode,
                    p.lead_body + "," + g.group.lead_body,
                    p.partners | frozenset(codes - {m.body_code}),
                    p.total_yen + m.total_yen,
                    p.net_without_grant_yen + m.net_without_grant_yen,
                )
    return out


def compare_views(a: PlanView, b: PlanView) -> Comparison:
    """Totals side by side and every body whose group (mode, lead, partners) or burden changed, per category."""
    pa, pb = _placements(a), _placements(b)
    changes = []
    for key in sorted(set(pa) | set(pb)):
        x, y = pa.get(key), pb.get(key)
        code, cat = key
        change = BodyChange(
            code,
            b.body_name(code) if code in b.instance.bodies else a.body_name(code),
            cat,
            b.category_name(cat) if cat in b.instance.categories else a.category_name(cat),
            x,
            y,
        )
        if change.group_changed or change.net_diff_yen or change.total_diff_yen:
            changes.append(change)
    changes.sort(key=lambda c: (-abs(c.net_diff_yen), c.body_code, c.category))
    return Comparison(a, b, changes, len({k[0] for k in set(pa) | set(pb)}))
