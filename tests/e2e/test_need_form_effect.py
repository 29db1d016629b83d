"""In a real browser: the need form shows the effect estimate as the user types (before registering), and the
body's own figure changes it; no script errors or CSP violations."""

from __future__ import annotations

from tests.e2e import test_browser
from tests.e2e.test_browser import shot, sign_in

pytestmark = test_browser.pytestmark  # Chromium present, SQLite only, slow


def test_live_effect_estimate(server, browser_page):
    base, _engine = server
    page, errors = browser_page
    sign_in(page, base, "muni202011")
    page.goto(f"{base}/needs/new")
    page.select_option("#category_id", "chatbot")
    page.fill("#volume", "13.364")
    headline = page.locator("#effect .effect-headline")
    headline.filter(has_text="年 223〜1,114時間（中位 668時間）の削減見込み").wait_for(timeout=10000)
    assert "好事例" in page.inner_text("#effect")
    page.fill("#baseline_minutes_per_unit", "4")
    headline.filter(has_text="年 891時間の削減見込み").wait_for(timeout=10000)
    assert "団体の現状値（1単位あたりの時間）による見込み" in page.inner_text("#effect")
    shot(page, "need-form-effect")
    assert errors == []
