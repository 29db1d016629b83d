"""The browser tests' fixtures: the application served on a free port, and a Chromium page that records script
errors, CSP violations and failed loads."""

from __future__ import annotations

import threading

import pytest

from tests.e2e.test_browser import ARTIFACTS, CHROMIUM


@pytest.fixture
def server(tmp_path, monkeypatch):
    """(base URL, engine) of the application serving a migrated, seeded SQLite database on a free port."""
    from werkzeug.serving import make_server

    from planner.app import create_app
    from planner.db.migrate import upgrade
    from planner.db.session import make_engine
    from tests.support.plans import NEEDS, add_needs
    from tests.support.web import seed_database

    url = f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("PLANNER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "e2e-secret",
            "WTF_CSRF_ENABLED": True,
            "NEEDS_UPLOAD_DIR": str(tmp_path / "uploads"),
            "REPORT_CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    engine = app.extensions["db_engine"]
    seed_database(engine)
    add_needs(engine, [row for row in NEEDS if row[0] != "202011"])  # 長野市 registers its own below
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}", engine
    srv.shutdown()
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="ja-JP", accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        # Script errors and CSP violations; failed loads are kept with their URL (the console message has none).
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        # The browser asks for /favicon.ico on its own now and then; the pages do not link one.
        page.on(
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
            ),
        )
        yield page, errors
        context.close()
        browser.close()
