"""Which members' answers a new version of a published plan carries over from the version it replaces.

A coordinator who re-plans after the answers (the decliners fixed standalone) and publishes the next version
expects not to ask again the towns whose part did not move: their 参加 / 条件付き stands. A member whose part
changed -- another group, other partners, another lead or mode, other figures -- answered for something that no
longer exists, so it is asked again; its previous answer is shown beside the question, with what changed. A
不参加 stays 不参加: the decliner's need is the one the re-plan fixed standalone, and it would otherwise be
counted as not answered (the member can still change it before the deadline).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .settled import member_lines
from .vocabulary import mode_short

if TYPE_CHECKING:
    from .model import Instance
    from .settled_plan import SettledPlan


@dataclass(frozen=True)
class MemberPart:
    """What a member answered for: its need's group and its own figures in one version."""

    need_id: str
    body_code: str
    category: str
    start_year: int
    mode: str
    lead_body: str
    partners: frozenset[str]  # the need ids of the whole group
    total_yen: int
    net_yen: int  # the headline net burden: the grant not awarded, the special tax counted
    grant_yen: int = 0  # the grant if awarded (its own line, never in net_yen)


@dataclass(frozen=True)
class CarryDecision:
    need_id: str
    carried: bool
    reason: str  # Japanese: why the answer stands, or what changed


def member_parts(instance: Instance, plan: SettledPlan) -> dict[str, MemberPart]:
    """Every member need of the plan, by need id."""
    out: dict[str, MemberPart] = {}
    for group in plan.groups:
        partners = frozenset(group.members)
        for line in member_lines(instance, group):
            out[line.need_id] = MemberPart(
                line.need_id,
                line.body_code,
                group.category,
                group.start_year,
                group.mode,
                group.lead_body,
                partners,
                line.total_yen,
                line.net_without_grant_yen,
                line.grant_yen,
            )
    return out


def changes(old: MemberPart, new: MemberPart, body_names: Mapping[str, str]) -> list[str]:
    """What differs for the member between two versions, in words (empty: nothing it answered for moved)."""
    out: list[str] = []
    if old.start_year != new.start_year:
        out.append(f"導入年度 {old.start_year}年度 → {new.start_year}年度")
    if old.mode != new.mode:
        out.append(f"方式 {mode_short(old.mode)} → {mode_short(new.mode)}")
    elif old.lead_body != new.lead_body and new.mode != "standalone":
        out.append(
            f"幹事・調整 {body_names.get(old.lead_body, old.lead_body)} → {body_names.get(new.lead_body, new.lead_body)}"
        )
    if old.partners != new.partners:
        out.append(f"グループの団体数 {len(old.partners)} → {len(new.partners)}")
    if old.total_yen != new.total_yen:
        out.append(f"負担 {old.total_yen:,}円 → {new.total_yen:,}円")
    if old.net_yen != new.net_yen:
        out.append(f"実質負担（見込額・補助金なし） {old.net_yen:,}円 → {new.net_yen:,}円")
    if old.grant_yen != new.grant_yen:
        out.append(f"補助金（見込額・採択された場合） {old.grant_yen:,}円 → {new.grant_yen:,}円")
    return out


def carry_decisions(
    answers: Mapping[str, str],
    old: Mapping[str, MemberPart],
    new: Mapping[str, MemberPart],
    body_names: Mapping[str, str],
) -> dict[str, CarryDecision]:
    """For each need answered in the old version (``answers``: need id -> join | decline | conditional) that is
    still in the new one: whether the answer stands in the new version, and why (or what changed)."""
    out: dict[str, CarryDecision] = {}
    for need_id, answer in answers.items():
        if need_id not in new or need_id not in old:
            continue
        moved = changes(old[need_id], new[need_id], body_names)
        if answer == "decline":
            alone = "単独調達として計画しています" if new[need_id].mode == "standalone" else "不参加の回答です"
            out[need_id] = CarryDecision(need_id, True, alone)
        elif not moved:
            out[need_id] = CarryDecision(need_id, True, "グループと負担に変更がありません")
        else:
            out[need_id] = CarryDecision(need_id, False, "、".join(moved))
    return out
