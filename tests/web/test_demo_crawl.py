"""The demo as a user meets it: every link and document reachable from the pages, as each demo login, answers
without an error (no 4xx link, no 5xx, no traceback or ERROR in the log: tests/support/crawl.py), on the demo
exactly as ``planner demo`` leaves it (計画 No.1 第1版 published, a draft 試算).

Every link is followed as every role, and every document as the city and the town. What the demo's pages link
(2 plans of 192 member needs, 73 bodies and 33 consortia each), measured by fetching every address: the
administrator 3,667 addresses (2,662 pages, 884 documents, the CSVs, the 2 plans' ZIPs), the coordinator 1,764
(880 pages, 884 documents), the city and the town about 70 each. The administrator's crawl of every address took
310 s of CPU (1,264 s of wall time on the shared machine at a load of 15), half of it the documents one by one
(the 年度別負担額 and 負担額通知 PDFs and workbooks); every document as both planners in both crawl tests would
add some 10 minutes of CPU to the suite. So the administrator and the coordinator fetch every page, CSV and ZIP
and ``PLANNER_DOCUMENTS_PER_PATTERN`` documents of each pattern (kind × plan × format, tests/support/demo_crawl.py),
and the whole plan's ZIP they fetch renders every document of the plan with the same renderers (each PDF laid
out once and kept by planner/reports/doc_cache.py, which a single document's address now reads as well).
"""

from __future__ import annotations

import pytest

from tests.support.demo_crawl import ROLES, assert_reached, crawl_as


@pytest.mark.parametrize("role", ROLES)
def test_every_link_and_document_of_the_fresh_demo_opens(demo_world, role):
    assert_reached(role, crawl_as(demo_world, role))
