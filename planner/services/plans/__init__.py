"""Solved plans: stored (store), read back as the view the pages, the API and the reports share (views), and compared
(compare). Who may open which plan is planner.services.access."""

from .compare import BodyChange, Comparison, Placement, compare_views
from .store import latest_plan, list_plans, persist_plan, plan_access
from .views import GroupView, PlanView, build_view, plan_view

__all__ = [
    "BodyChange",
    "Comparison",
    "GroupView",
    "Placement",
    "PlanView",
    "build_view",
    "compare_views",
    "latest_plan",
    "list_plans",
    "persist_plan",
    "plan_access",
    "plan_view",
]
