"""Solved plans: stored (store), read back as the view the pages, the API and the reports share (views), loaded
for a user with the access check (loading: :func:`load_plan`), and compared (compare). Who may open which plan is
planner.services.access."""

from .compare import BodyChange, Comparison, Placement, compare_views
from .loading import LoadedPlan, PlanNotFound, load_plan
from .store import latest_plan, list_plans, persist_plan
from .views import GroupView, PlanView, build_view, plan_view

__all__ = [
    "BodyChange",
    "Comparison",
    "GroupView",
    "LoadedPlan",
    "Placement",
    "PlanNotFound",
    "PlanView",
    "build_view",
    "compare_views",
    "latest_plan",
    "list_plans",
    "load_plan",
    "persist_plan",
    "plan_view",
]
