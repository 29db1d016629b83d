"""The per-worker cache of plan views is bounded by the needs it holds, not only by its count (issue #30: eight
national plans kept a few hundred MB in every worker); the newest view is always kept."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from planner.services.plans import views


def _row(plan_id: int, needs: int):
    return SimpleNamespace(
        id=plan_id,
        scenario_id=1,
        created_at=datetime(2026, 12, 7),
        objective_yen=1,
        lower_bound_yen=1,
        solve_seconds=0.5,
        plan_doc={"groups": []},
        instance_doc={"needs": [{}] * needs},
        price_book_version="",
        rule_version="",
    )


def test_the_cache_drops_the_oldest_views_past_its_needs(monkeypatch):
    built = []
    monkeypatch.setattr(views, "build_view", lambda plan_id, *rest: built.append(plan_id) or f"view {plan_id}")
    monkeypatch.setattr(views, "_CACHE", type(views._CACHE)())
    big = views._CACHE_NEEDS // 2
    for plan_id in (1, 2, 3):
        assert views.plan_view(_row(plan_id, big)) == f"view {plan_id}"
    assert sum(n for _, n in views._CACHE.values()) <= views._CACHE_NEEDS
    views.plan_view(_row(3, big))  # still cached
    assert built == [1, 2, 3]
    views.plan_view(_row(1, big))  # dropped: built again
    assert built == [1, 2, 3, 1]
    views.plan_view(_row(9, views._CACHE_NEEDS * 3))  # larger than the bound on its own: kept, alone
    assert list(views._CACHE) and len(views._CACHE) == 1
    small = [views.plan_view(_row(100 + i, 10)) for i in range(20)]
    assert len(small) == 20 and len(views._CACHE) == views._CACHE_SIZE
