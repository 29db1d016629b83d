"""Vendor quotes per scenario: entered from the reference price book, used by the scenario's instance, and named
on the plan, its documents and as an input change of a published plan."""

from __future__ import annotations

from sqlmodel import Session, select

from planner.db.models import AuditLog, PlanRelease, Scenario, ScenarioQuote, User
from planner.db.models import Plan as PlanRow
from planner.services import answers as answer_svc
from planner.services.instances import build_instance_with_notes
from planner.services.reference_data import current_price_book, price_book_document
from tests.reports.helpers import pdf_text
from tests.support.plans import publish_now, solve_now
from tests.support.web import login

QUOTE = {
    "vendor": "信州システム株式会社",
    "reference": "見積第 2026-118 号",
    "quoted_on": "2026-11-20",
    "prices-fixed_initial": "3000000",
    "prices-fixed_annual": "600000",
    "prices-member_initial": "100000",
    "prices-member_annual": "120000",
    "prices-per_km_annual": "0",
    "prices-lines": "0, 900\n20000, 700\n60000, 500",
    "prices-max_members": "12",
    "lock": "0",  # a form opened when the category and mode had no quote
}


def test_the_form_starts_from_the_reference_price_book(app, client, planned):
    login(client, "pref20")
    sid = planned["scenario_id"]
    listing = client.get(f"/scenarios/{sid}/quotes").get_data(as_text=True)
    assert "単価表（参考値）" in listing and "見積を入力" in listing
    page = client.get(f"/scenarios/{sid}/quotes/ocr/lead").get_data(as_text=True)
    with Session(planned["engine"]) as session:
        book = current_price_book(session)
        ocr = next(c for c in price_book_document(session, book)["categories"] if c["id"] == "ocr")
    assert f'value="{ocr["lead"]["fixed_initial"]}"' in page
    alpha, beta = ocr["lead"]["lines"][0]
    assert f"{alpha}, {beta}" in page


def test_a_quote_is_checked_saved_audited_and_used_by_the_instance(app, client, planned):
    engine, sid = planned["engine"], planned["scenario_id"]
    login(client, "pref20")
    bad = {**QUOTE, "prices-lines": "0, 500\n20000, 900", "vendor": ""}  # tiers must get cheaper per unit
    r = client.post(f"/scenarios/{sid}/quotes/ocr/lead", data=bad)
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "保存できませんでした" in text and "事業者の名前を入力してください" in text
    r = client.post(f"/scenarios/{sid}/quotes/ocr/lead", data={**QUOTE, "prices-lines": "0, 500\n20000, 900"})
    assert r.status_code == 422 and "見積" in r.get_data(as_text=True)
    with Session(engine) as session:
        assert session.exec(select(ScenarioQuote)).all() == []
    assert client.post(f"/scenarios/{sid}/quotes/ocr/lead", data=QUOTE).status_code == 302
    with Session(engine) as session:
        quote = session.exec(select(ScenarioQuote)).one()
        assert quote.lines == [[0, 900], [20000, 700], [60000, 500]] and quote.fixed_initial == 3_000_000
        entry = session.exec(select(AuditLog).where(AuditLog.entity == "scenario_quote")).one()
        assert "信州システム株式会社" in entry.detail and entry.prefecture_code == "20"
        built = build_instance_with_notes(session, session.get(Scenario, sid))
        price = built.instance.categories["ocr"].price("lead")
        assert price.fixed_initial == 3_000_000 and price.lines == ((0, 900), (20000, 700), (60000, 500))
        assert built.instance.categories["ocr"].price("unified").fixed_initial != 3_000_000  # only the quoted mode
        assert built.price_source.startswith(
            "見積 1 件（AI-OCR・幹事一括：信州システム株式会社 見積第 2026-118 号 2026-11-20）"
        )
    page = client.get(f"/scenarios/{sid}").get_data(as_text=True)
    assert "信州システム株式会社" in page
    # an edit with a stale lock is refused with the quote as it is now, not silently applied
    stale = {**QUOTE, "lock": "0", "vendor": "別の事業者"}
    r = client.post(f"/scenarios/{sid}/quotes/ocr/lead", data=stale)
    assert r.status_code == 409 and "信州システム株式会社" in r.get_data(as_text=True)


def test_the_plan_and_its_documents_name_the_prices_they_used(app, client, planned):
    engine, sid = planned["engine"], planned["scenario_id"]
    publish_now(engine, planned["view"].id)
    login(client, "pref20")
    assert client.post(f"/scenarios/{sid}/quotes/ocr/lead", data=QUOTE).status_code == 302
    # the published plan now says its prices were replaced
    page = client.get(f"/plans/{planned['view'].id}").get_data(as_text=True)
    assert "公表後に入力が変わっています" in page and "単価の変更: AI-OCR（幹事一括）" in page
    plan_id = solve_now(engine, sid)
    with Session(engine) as session:
        row = session.get(PlanRow, plan_id)
        assert row.plan_doc["price_source"].startswith("見積 1 件（AI-OCR・幹事一括：信州システム株式会社")
        group = next((g for g in row.plan_doc["groups"] if g["category"] == "ocr"), None)
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "見積 1 件（AI-OCR・幹事一括：信州システム株式会社" in page
    r = client.get(f"/plans/{plan_id}/reports/summary.pdf")
    assert r.status_code == 200 and "信州システム株式会社" in pdf_text(r.data)
    r = client.get(f"/plans/{plan_id}/reports/group/{group['id']}.pdf")
    assert r.status_code == 200 and "信州システム株式会社" in pdf_text(r.data)
    # deleting the quote goes back to the price book
    assert client.post(f"/scenarios/{sid}/quotes/ocr/lead/delete").status_code == 302
    with Session(engine) as session:
        assert session.exec(select(ScenarioQuote)).all() == []
        built = build_instance_with_notes(session, session.get(Scenario, sid))
        assert built.price_source.startswith("単価表 ")


def test_a_copied_or_replanned_scenario_keeps_its_quotes(app, client, planned):
    engine, sid = planned["engine"], planned["scenario_id"]
    login(client, "pref20")
    assert client.post(f"/scenarios/{sid}/quotes/ocr/lead", data=QUOTE).status_code == 302
    r = client.post(f"/scenarios/{sid}/copy")
    assert r.status_code == 302
    copy_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    with Session(engine) as session:
        (copied,) = session.exec(select(ScenarioQuote).where(ScenarioQuote.scenario_id == copy_id)).all()
        assert copied.vendor == "信州システム株式会社" and copied.lines == [[0, 900], [20000, 700], [60000, 500]]
    # the re-plan after members' answers is a copy too: v2 is priced like v1
    view = planned["view"]
    release_id = publish_now(engine, view.id)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "muni202029")).one()
        release = session.get(PlanRelease, release_id)
        ocr = next(
            line
            for line in answer_svc.need_lines(view, "202029")
            if view.instance.need(line.need_key).category == "ocr"
        )
        answer_svc.submit_answers(session, user, release, view, {ocr.need_key: ("decline", "")})
        coordinator = session.exec(select(User).where(User.username == "pref20")).one()
        clone, _ = answer_svc.replan_scenario(session, coordinator, release, view)
        session.commit()
        (copied,) = session.exec(select(ScenarioQuote).where(ScenarioQuote.scenario_id == clone.id)).all()
        assert copied.vendor == "信州システム株式会社"
        assert {"need": ocr.need_key, "mode": "standalone"} in clone.overrides["fixed"]


def test_each_group_page_names_its_own_price_source(app, client, planned):
    """A group priced by a vendor quote says whose quote; a group on the price book says so (not 単価表 for all)."""
    engine, sid = planned["engine"], planned["scenario_id"]
    login(client, "pref20")
    for mode in ("lead", "unified"):  # whichever mode the optimiser picks for AI-OCR
        assert client.post(f"/scenarios/{sid}/quotes/ocr/{mode}", data=QUOTE).status_code == 302
    plan_id = solve_now(engine, sid)
    with Session(engine) as session:
        row = session.get(PlanRow, plan_id)
        groups = row.plan_doc["groups"]
        version = row.price_book_version
    quoted = next(g for g in groups if g["category"] == "ocr" and g["mode"] != "standalone")
    page = client.get(f"/plans/{plan_id}/groups/{quoted['id']}").get_data(as_text=True)
    assert "単価は信州システム株式会社 の見積（見積第 2026-118 号、2026-11-20）によります" in page
    assert "単価表" not in page.split("単価は", 1)[1].split("</p>", 1)[0]
    other = next(g for g in groups if g["category"] != "ocr")
    page = client.get(f"/plans/{plan_id}/groups/{other['id']}").get_data(as_text=True)
    assert f"単価は単価表 {version}（参考値）によります" in page
