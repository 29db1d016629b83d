"""Administration: users, MIC's official data, price-book, subsidy-rule and effect-model versions, and the audit log.

Everything here is for administrators, except the audit log, which prefecture coordinators may read for their own
prefecture's bodies. Reference data is never edited in place: each change is a new version, audited, and plans
keep the version they were solved with. One blueprint (``bp``); each module adds the pages of one job.
"""

from . import (  # noqa: F401  (routes)
    account_import,
    audit_log,
    effect_models,
    official_data,
    overview,
    price_books,
    rule_sets,
    users,
)
from .common import bp

__all__ = ["bp"]
