"""Why a body pays what it pays: the inputs of one member's share, in the words a town's officer checks them with.

The page shows these beside the amount (issue #15 point 10): the member's volume and population against the group's
totals, the weights of the method, the number of members and what the body would pay alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .model import Instance
from .vocabulary import method_name, yen
from .vocabulary import volume as volume_text

SHARE_KEYS = ("equal", "population", "volume")
WEIGHT_LABELS = {"equal": "均等割", "population": "人口割", "volume": "利用量割"}


@dataclass(frozen=True)
class BasisLine:
    label: str
    value: str


def _percent(part: float, whole: float) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "—"


def method_weights(method: str, weights: Mapping[str, float] | None) -> dict[str, float] | None:
    """The formula's weights (summing to 1) for the methods that are a weighted split; None for the others."""
    if method in SHARE_KEYS:
        return {k: 1.0 if k == method else 0.0 for k in SHARE_KEYS}
    if method == "formula" and weights:
        total = sum(weights.get(k, 0.0) for k in SHARE_KEYS)
        return {k: weights.get(k, 0.0) / total for k in SHARE_KEYS} if total > 0 else None
    return None


def share_basis(
    instance: Instance,
    member_need_ids: Sequence[str],
    need_id: str,
    method: str,
    weights: Mapping[str, float] | None,
    standalone_yen: int,
) -> list[BasisLine]:
    """The lines that explain one member's share of its group (in the group's order of members)."""
    need = instance.need(need_id)
    category = instance.categories.get(need.category)
    unit = category.unit if category else ""
    needs = [instance.need(i) for i in member_need_ids]
    volume_total = sum(n.volume for n in needs)
    populations = [instance.bodies[n.body].population for n in needs]
    own_population = instance.bodies[need.body].population
    lines = [
        BasisLine("按分方法", method_name(method)),
        BasisLine("参加団体数", f"{len(needs)}団体（均等割では 1/{len(needs)} ＝ {_percent(1, len(needs))}）"),
        BasisLine(
            "利用量",
            f"{volume_text(need.volume)} {unit}（グループ計 {volume_text(volume_total)} {unit}、"
            f"{_percent(need.volume, volume_total)}）",
        ),
    ]
    known_populations = [p for p in populations if p is not None]
    if own_population is None or len(known_populations) < len(populations):
        lines.append(
            BasisLine(
                "人口",
                f"{own_population:,}人（グループ計は人口不明の団体があるため算出できません）"
                if own_population is not None
                else "不明",
            )
        )
    else:
        total_population = sum(known_populations)
        lines.append(
            BasisLine(
                "人口",
                f"{own_population:,}人（グループ計 {total_population:,}人、"
                f"{_percent(own_population, total_population)}）",
            )
        )
    split = method_weights(method, weights)
    if split is not None:
        lines.append(BasisLine("重み", "・".join(f"{WEIGHT_LABELS[k]} {split[k] * 100:.0f}%" for k in SHARE_KEYS)))
    lines.append(BasisLine("単独で導入した場合の費用", yen(standalone_yen)))
    return lines
