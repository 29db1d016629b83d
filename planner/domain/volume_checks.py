"""Is a registered volume plausible? Warnings (never refusals) for a volume far from what the body's size or its
previously registered value suggests: a misplaced unit (枚 for 千枚) or an extra digit multiplies a town's share
many times over, and the person importing the file should look at it before it reaches a plan.
"""

from __future__ import annotations

from .vocabulary import volume as volume_text

# A need rarely triples, or falls to a third, between two registrations; a change that large is worth a look.
PREVIOUS_RATIO = 3.0
# The per-10,000-inhabitants figures are national averages; bodies differ, but not tenfold in either direction.
POPULATION_RATIO = 10.0


def _guide(value: float) -> str:
    """The population guide is an estimate: whole units from 100 up, one decimal below."""
    return volume_text(round(value) if value >= 100 else round(value, 1))


def _times(ratio: float) -> str:
    return f"約{ratio:,.0f}倍" if ratio >= 10 else f"約{ratio:,.1f}倍"


def volume_warnings(
    volume: float,
    unit: str,
    *,
    previous: float | None = None,
    population: int | None = None,
    per_10k_pop: float | None = None,
) -> list[str]:
    """Japanese warnings for ``volume`` against the need's previous value and the population guide, if any."""
    out: list[str] = []
    unit_note = f"単位（{unit}）" if unit else "単位"
    if previous and previous > 0 and volume > 0:
        ratio = volume / previous
        if ratio >= PREVIOUS_RATIO or ratio <= 1 / PREVIOUS_RATIO:
            change = _times(ratio) if ratio > 1 else f"{_times(1 / ratio)}の減少"
            out.append(
                f"利用量が登録済みの {volume_text(previous)} から {volume_text(volume)} に変わります（{change}）。"
                f"{unit_note}と桁を確かめてください"
            )
    if population and per_10k_pop and volume > 0:
        guide = population / 10_000 * per_10k_pop
        ratio = volume / guide
        if ratio >= POPULATION_RATIO or ratio <= 1 / POPULATION_RATIO:
            side = "上回ります" if ratio > 1 else "下回ります"
            out.append(
                f"利用量 {volume_text(volume)} は、人口（{population:,}人）からの目安 {_guide(guide)} を大きく{side}"
                f"（{_times(ratio) if ratio > 1 else _times(1 / ratio) + 'の差'}）。{unit_note}と桁を確かめてください"
            )
    return out
