"""Migration 0003: duplicate active needs already in a database are resolved (the oldest stays active, the later
ones are withdrawn, nothing deleted) before the partial unique index is built."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from planner.db.migrate import alembic_config, upgrade


def test_existing_duplicate_active_needs_are_withdrawn_before_the_index_is_built(db_url):
    from planner.db.session import make_engine

    engine = make_engine(db_url)
    try:
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO body (code, name, prefecture_code, kind, lat, lng, disadvantaged, "
                    "has_data_plan, version, updated_at) VALUES ('202011', '長野市', '20', 'city', 36.6, "
                    "138.2, false, false, 1, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                sa.text(
                    'INSERT INTO category (id, name, "group", unit, sat_program, sort_order) '
                    "VALUES ('ocr', 'AI-OCR', '', '', '', 0)"
                )
            )
            for volume, status in ((1, "active"), (2, "active"), (3, "withdrawn"), (4, "active")):
                conn.execute(
                    sa.text(
                        "INSERT INTO need (body_code, category_id, volume, start_year, accepts_lead, accepts_unified, "
                        "can_lead, notes, status, is_demo, version, created_at, updated_at) VALUES ('202011', 'ocr', "
                        ":v, 2026, true, true, false, '', :s, false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"v": volume, "s": status},
                )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT volume, status, version, notes FROM need ORDER BY id")).all()
        assert [(r.volume, r.status, r.version) for r in rows] == [
            (1, "active", 1),
            (2, "withdrawn", 2),
            (3, "withdrawn", 1),
            (4, "withdrawn", 2),
        ]
        assert "重複のため取下げ" in rows[1].notes and rows[2].notes == ""
    finally:
        engine.dispose()
