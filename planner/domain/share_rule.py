"""The rule a group's shares follow (cost-model.md, "A rule the agreement can state"), read from its allocation.

Settlement records the rule on the allocation (``Allocation.rule``: the weights, or "adjusted" for the formula
plus per-member 調整額); plans settled before the field existed fall back on the method itself (均等割・人口割・
利用量割 and their mix). The agreement's 第4条 states this rule, and the 確定負担額 applies it to the real contract
price (:mod:`planner.domain.contract_settlement`), so both read it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .allocation import FORMULA_FAMILY

if TYPE_CHECKING:
    from .settled_plan import SettledGroup

PARTS = (("equal", "均等割"), ("population", "人口割"), ("volume", "利用量割"))


@dataclass(frozen=True)
class ShareRule:
    weights: Mapping[str, float]  # normalised, over equal / population / volume
    adjusted: bool  # the 別表 adds a 調整額 to the formula's amounts

    def label(self) -> str:
        return "・".join(f"{name}{percent(w * 100)}%" for key, name in PARTS if (w := self.weights.get(key, 0.0)) > 0)


def share_rule(group: SettledGroup) -> ShareRule | None:
    """The formula the group's shares follow, or None where they follow no formula (シャープレイ値 and the like)."""
    a = group.allocation
    if a.method not in FORMULA_FAMILY:
        return None
    if isinstance(a.rule, Mapping):
        weights: Mapping[str, float] = a.rule
    elif a.method == "formula" and a.weights:
        weights = a.weights
    else:
        weights = {key: float(key == a.method) for key, _ in PARTS}
    total = sum(weights.get(key, 0.0) for key, _ in PARTS) or 1.0
    normal = {key: weights.get(key, 0.0) / total for key, _ in PARTS}
    return ShareRule(normal, a.rule == "adjusted" or a.adjusted)


def percent(value: float) -> str:
    """A percentage as the agreement prints it: one decimal at most, no trailing zeros (``12.5``, ``10``)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
