"""Needs pages with national data: the home page, the needs list, its export and the import of a large file.

    .venv/bin/python bench/needs_pages_bench.py [--per-body 3] [--repeat 5]

Builds a throw-away SQLite database with the 1,788 bodies and the reference price book (init-db), registers
``--per-body`` needs for every body, and times each page through the Flask test client as an administrator
(the widest scope). Figures are the mean of --repeat requests after one warm-up request.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from planner.app import create_app  # noqa: E402
from planner.db.models import Body, Category, Need  # noqa: E402
from planner.services.init_db import init_database  # noqa: E402
from planner.services.users import create_user  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-body", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "bench",
                "NEEDS_UPLOAD_DIR": str(Path(tmp) / "uploads"),
            }
        )
        engine = app.extensions["db_engine"]
        init_database(engine)
        rnd = random.Random(1)
        with Session(engine) as session:
            cats = [c.id for c in session.exec(select(Category))]
            for body in session.exec(select(Body)).all():
                for cat in rnd.sample(cats, min(args.per_body, len(cats))):
                    session.add(Need(body_code=body.code, category_id=cat, volume=rnd.randint(1, 500), start_year=2026))
            create_user(session, "bench-admin", "password-123", "admin")
            session.commit()
            total = len(session.exec(select(Need.id)).all())
        print(f"needs: {total:,} ({args.per_body} per body)")
        client = app.test_client()
        client.post("/login", data={"username": "bench-admin", "password": "password-123"})
        for path in [
            "/home",
            "/needs/",
            "/needs/?page=50",
            "/needs/?category=ocr&status=all",
            "/needs/export.csv",
            "/needs/export.xlsx",
        ]:
            client.get(path)
            start = time.perf_counter()
            for _ in range(args.repeat):
                response = client.get(path)
            mean = (time.perf_counter() - start) / args.repeat * 1000
            print(f"GET {path:36s} {response.status_code} {mean:8.1f} ms  {len(response.data):>9,} bytes")
        exported = client.get("/needs/export.xlsx").data
        start = time.perf_counter()
        response = client.post(
            "/needs/import", data={"file": (io.BytesIO(exported), "all.xlsx")}, content_type="multipart/form-data"
        )
        print(
            f"POST /needs/import (preview of the export, {total:,} rows) {response.status_code} "
            f"{(time.perf_counter() - start) * 1000:8.1f} ms"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
