"""Price-book versions: created from edits, old versions kept, bad edits refused with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import AuditLog, PriceBook, PriceEntry
from planner.services.reference_data import (
    ReferenceDataError,
    create_price_book_version,
    current_price_book,
    domain_categories,
    price_book_document,
)


def test_new_version_from_edits_keeps_the_old_one(nagano_engine):
    with Session(nagano_engine) as s:
        book = create_price_book_version(
            s,
            "R8-ref-1",
            {
                "ocr": {"lead": {"fixed_initial": 3_100_000, "max_members": 12}},
                "rpa": {"standalone": {"lines": [[0, 90000], [500000, 60000]]}},
            },
            None,
        )
        s.commit()
        assert book.version == "R8-ref-2" and book.label == "参考値" and book.is_current
        assert current_price_book(s).version == "R8-ref-2"
        old = s.exec(select(PriceBook).where(PriceBook.version == "R8-ref-1")).one()
        assert not old.is_current
        old_doc, new_doc = price_book_document(s, old), price_book_document(s, book)
        old_ocr = next(c for c in old_doc["categories"] if c["id"] == "ocr")
        new_ocr = next(c for c in new_doc["categories"] if c["id"] == "ocr")
        assert new_ocr["lead"]["fixed_initial"] == 3_100_000 and new_ocr["lead"]["max_members"] == 12
        assert old_ocr["lead"]["fixed_initial"] != 3_100_000
        assert new_ocr["unified"] == old_ocr["unified"]
        cats = domain_categories(s, book)
        assert cats["rpa"].price("standalone").lines == ((0.0, 90000.0), (500000.0, 60000.0))
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "price_book", AuditLog.entity_id == "R8-ref-2")).one()
        assert entry.after == {
            "ocr.lead.fixed_initial": 3_100_000,
            "ocr.lead.max_members": 12,
            "rpa.standalone.lines": [[0, 90000], [500000, 60000]],
        }


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"nope": {"lead": {"fixed_initial": 1}}}, "分野「nope」"),
        ({"ocr": {"fast": {"fixed_initial": 1}}}, "方式「fast」"),
        ({"ocr": {"lead": {"fixed_initial": -5}}}, "ocr.lead.fixed_initial: 0 以上の整数"),
        ({"ocr": {"lead": {"fixed_initial": 1.5}}}, "0 以上の整数"),
        ({"ocr": {"standalone": {"max_members": 3}}}, "変更できる項目ではありません"),
        ({"ocr": {"lead": {"lines": [[0, 100], [10, 200]]}}}, "not a volume discount"),
        ({}, "変更がありません"),
    ],
)
def test_bad_edits_are_refused_and_nothing_is_written(nagano_engine, changes, message):
    with Session(nagano_engine) as s:
        with pytest.raises(ReferenceDataError) as e:
            create_price_book_version(s, "R8-ref-1", changes, None)
        s.rollback()
        assert message in str(e.value)
        assert s.exec(select(func.count()).select_from(PriceBook)).one() == 1
        assert s.exec(select(func.count()).select_from(PriceEntry)).one() == 27


def test_unknown_base_and_taken_version_are_refused(nagano_engine):
    with Session(nagano_engine) as s:
        with pytest.raises(ReferenceDataError, match="R1"):
            create_price_book_version(s, "R1", {"ocr": {"lead": {"fixed_initial": 1}}}, None)
        with pytest.raises(ReferenceDataError, match="既にあります"):
            create_price_book_version(s, "R8-ref-1", {"ocr": {"lead": {"fixed_initial": 1}}}, None, version="R8-ref-1")
