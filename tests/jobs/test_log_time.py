"""The job log is in Japan time like every other time on the pages (#31 item 10)."""

from __future__ import annotations

from datetime import datetime

from planner.jobs.state import log_line


def test_a_log_line_is_stamped_in_jst():
    # 15:30 UTC on 7 December is 00:30 on 8 December in Japan
    assert log_line("最適化を開始", datetime(2026, 12, 7, 15, 30, 5)) == "[2026-12-08 00:30:05 JST] 最適化を開始\n"
