"""Vendor quotes per scenario (見積): a coordinator replaces the reference price book's entry for a category and
mode with a vendor's quote (fixed and per-member prices, the volume tiers as ``lines`` [alpha, beta]).

The instance built for the scenario uses the quotes instead of the price book's entries (``apply_quotes``), and the
plan records in words which prices it used (``price_source_text``), so pages and documents can name them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from planner.db.models import Category, PriceBook, Scenario, ScenarioQuote, utcnow
from planner.db.rows import id_of
from planner.domain import vocabulary
from planner.domain.model import JOINT_MODES, MODES
from planner.services.access import Actor

from .audit import record
from .reference_data import PRICE_FIELDS, price_book_document, validate_price_book_document

MODE_LABELS = {mode: vocabulary.mode_short(mode) for mode in MODES}


class QuoteError(ValueError):
    """A quote that cannot be saved; ``problems`` name the field and what is wrong (Japanese)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("；".join(problems))


class QuoteConflict(QuoteError):
    """Another coordinator saved (or removed) the quote since the form was opened: nothing was written, and the
    page shows ``current`` (the quote as it is now, None when there is none) for the user to decide again."""

    def __init__(self, current: ScenarioQuote | None):
        self.current = current
        super().__init__(
            [
                "この見積は、画面を開いた後に他の利用者が保存しました。今の見積を下に示します（入力した内容は保存していません）。"
                if current is not None
                else "この見積は、画面を開いた後に他の利用者が削除しました。入力した内容は保存していません。"
            ]
        )


NEW_QUOTE = 0  # the lock a form for a category and mode without a quote carries: it expects to create one


def category(session: Session, category_id: str) -> Category | None:
    return session.get(Category, category_id)


def category_names(session: Session) -> dict[str, str]:
    """Every category's name by id (a quote list names its rows)."""
    return {c.id: c.name for c in session.exec(select(Category))}


def find_quote(session: Session, scenario_id: int, category_id: str, mode: str) -> ScenarioQuote | None:
    return session.exec(
        select(ScenarioQuote).where(
            col(ScenarioQuote.scenario_id) == scenario_id,
            col(ScenarioQuote.category_id) == category_id,
            col(ScenarioQuote.mode) == mode,
        )
    ).first()


@dataclass(frozen=True)
class QuoteValues:
    vendor: str
    quoted_on: date | None
    reference: str
    prices: dict[str, Any]  # PRICE_FIELDS, lines, max_members (joint modes)


class _QuoteFields(TypedDict):
    """What a save writes into a ScenarioQuote row, the same for an insert and for a conditional update."""

    vendor: str
    quoted_on: date | None
    reference: str
    based_on: str
    fixed_initial: int
    fixed_annual: int
    member_initial: int
    member_annual: int
    per_km_annual: int
    lines: list[list[Any]]
    max_members: int | None


def scenario_quotes(session: Session, scenario_id: int) -> list[ScenarioQuote]:
    return list(
        session.exec(
            select(ScenarioQuote)
            .where(col(ScenarioQuote.scenario_id) == scenario_id)
            .order_by(col(ScenarioQuote.category_id), col(ScenarioQuote.mode))
        )
    )


def quote_prices(quote: ScenarioQuote) -> dict[str, Any]:
    d: dict[str, Any] = {f: getattr(quote, f) for f in PRICE_FIELDS}
    d["lines"] = [list(line) for line in quote.lines or []]
    if quote.mode in JOINT_MODES:
        d["max_members"] = quote.max_members
    return d


def apply_quotes(book_doc: dict[str, Any], quotes: Iterable[ScenarioQuote]) -> dict[str, Any]:
    """The price-book document with each quoted category × mode replaced by the quote."""
    doc = copy.deepcopy(book_doc)
    by_key = {(q.category_id, q.mode): q for q in quotes}
    for cat in doc["categories"]:
        for mode in MODES:
            q = by_key.get((cat["id"], mode))
            if q is not None:
                cat[mode] = quote_prices(q)
    return doc


def price_source_text(book: PriceBook, quotes: list[ScenarioQuote], names: dict[str, str]) -> str:
    """「単価表 ref-2025（参考値）」, followed by the quotes that replaced its entries."""
    head = f"単価表 {book.version}（{book.label or '参考値'}）"
    if not quotes:
        return head
    items = []
    for q in quotes:
        when = f" {q.quoted_on:%Y-%m-%d}" if q.quoted_on else ""
        ref = f" {q.reference}" if q.reference else ""
        items.append(
            f"{_short(names.get(q.category_id, q.category_id))}・{MODE_LABELS.get(q.mode, q.mode)}："
            f"{q.vendor}{ref}{when}"
        )
    return f"見積 {len(quotes)} 件（{'、'.join(items)}）、その他は{head}"


def quoted_prices(quotes: list[ScenarioQuote]) -> list[dict[str, Any]]:
    """Which category × mode each quote priced, kept in the plan document (``quotes_used``), so that a group's
    page names its own price source even after the quote is edited or removed."""
    return [
        {
            "category": q.category_id,
            "mode": q.mode,
            "vendor": q.vendor,
            "reference": q.reference or "",
            "quoted_on": q.quoted_on.isoformat() if q.quoted_on else "",
        }
        for q in quotes
    ]


def group_price_source(plan_doc: dict[str, Any], category: str, mode: str, book_version: str) -> str:
    """Where a group's prices came from, in words: its category × mode's vendor quote, or the price book.

    A plan solved before quotes_used was recorded names the whole plan's source when that included quotes (it
    cannot tell which group a quote priced), and the price book otherwise."""
    for q in plan_doc.get("quotes_used") or []:
        if q.get("category") == category and q.get("mode") == mode:
            details = "、".join(x for x in (q.get("reference"), q.get("quoted_on")) if x)
            return f"{q.get('vendor')} の見積" + (f"（{details}）" if details else "")
    source = str(plan_doc.get("price_source") or "")
    if "quotes_used" not in plan_doc and source.startswith("見積"):
        return source
    return f"単価表 {book_version}（参考値）"


def _short(name: str) -> str:
    return name.split("（", 1)[0]


def reference_entry(session: Session, book: PriceBook, category_id: str, mode: str) -> dict[str, Any] | None:
    """The price book's entry the quote form starts from."""
    doc = price_book_document(session, book)
    cat = next((c for c in doc["categories"] if c["id"] == category_id), None)
    return dict(cat[mode]) if cat and isinstance(cat.get(mode), dict) else None


def validate_quote(session: Session, book: PriceBook, category_id: str, mode: str, values: QuoteValues) -> list[str]:
    """The domain's own price rules (non-negative yen, concave tiers, max_members) on the book with the quote."""
    problems = []
    if not values.vendor.strip():
        problems.append("事業者名: 見積を出した事業者の名前を入力してください")
    if len(values.vendor) > 120:
        problems.append("事業者名: 120 文字以内にしてください")
    if mode not in MODES:
        problems.append(f"方式: {mode} は単独・幹事一括・仕様統一のどれでもありません")
        return problems
    doc = price_book_document(session, book)
    cat = next((c for c in doc["categories"] if c["id"] == category_id), None)
    if cat is None:
        problems.append(f"分野: {category_id} は単価表 {book.version} にありません")
        return problems
    cat[mode] = dict(values.prices)
    if not values.prices.get("lines"):
        problems.append("利用量単価の直線: 少なくとも 1 本（切片, 傾き）を入力してください")
    for p in validate_price_book_document({**doc, "categories": [cat]}, where="見積"):
        problems.append(p)
    return problems


def save_quote(
    session: Session,
    user: Actor,
    scenario: Scenario,
    book: PriceBook,
    category_id: str,
    mode: str,
    values: QuoteValues,
    expected_lock: int,
) -> ScenarioQuote:
    """Insert or replace the scenario's quote for the category and mode (audited; the caller commits).

    ``expected_lock`` is the quote's ``lock_version`` the form was opened on, :data:`NEW_QUOTE` for a form opened
    when there was none. The insert relies on the unique key (scenario, category, mode) and a replacement is a
    conditional update on ``lock_version``: of two coordinators saving at once, or one saving over a quote saved
    after the form was opened, the loser gets :class:`QuoteConflict` and nothing is overwritten."""
    problems = validate_quote(session, book, category_id, mode, values)
    if problems:
        raise QuoteError(problems)
    scenario_id = id_of(scenario)
    existing = find_quote(session, scenario_id, category_id, mode)
    prices = values.prices
    fields = _QuoteFields(
        vendor=values.vendor.strip(),
        quoted_on=values.quoted_on,
        reference=values.reference.strip(),
        based_on=book.version,
        fixed_initial=int(prices["fixed_initial"]),
        fixed_annual=int(prices["fixed_annual"]),
        member_initial=int(prices["member_initial"]),
        member_annual=int(prices["member_annual"]),
        per_km_annual=int(prices["per_km_annual"]),
        lines=[list(line) for line in prices["lines"]],
        max_members=prices.get("max_members") if mode in JOINT_MODES else None,
    )
    if expected_lock == NEW_QUOTE:
        if existing is not None:
            raise QuoteConflict(existing)
        quote = ScenarioQuote(scenario_id=scenario_id, category_id=category_id, mode=mode, updated_by=user.id, **fields)
        try:
            with session.begin_nested():
                session.add(quote)
                session.flush()
        except IntegrityError as e:  # a concurrent first save of the same category and mode won
            raise QuoteConflict(find_quote(session, scenario_id, category_id, mode)) from e
        before = None
    else:
        if existing is None:
            raise QuoteConflict(None)
        before = {"vendor": existing.vendor, **quote_prices(existing)}
        done = session.exec(
            update(ScenarioQuote)
            .where(col(ScenarioQuote.id) == existing.id, col(ScenarioQuote.lock_version) == expected_lock)
            .values(**fields, updated_by=user.id, updated_at=utcnow(), lock_version=col(ScenarioQuote.lock_version) + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.refresh(existing)
        if done != 1:
            raise QuoteConflict(existing)
        quote = existing
    name = _category_name(session, category_id)
    record(
        session,
        user_id=user.id,
        action="update" if before else "create",
        entity="scenario_quote",
        entity_id=str(quote.id),
        before=before,
        after={"vendor": quote.vendor, **quote_prices(quote)},
        prefecture_code=scenario.prefecture_code,
        detail=f"シナリオ「{scenario.name}」の見積（{name}・{MODE_LABELS.get(mode, mode)}：{quote.vendor}）を"
        f"{'更新' if before else '登録'}",
    )
    return quote


def delete_quote(session: Session, user: Actor, scenario: Scenario, quote: ScenarioQuote) -> None:
    """Back to the price book's entry for this category and mode (audited; the caller commits)."""
    record(
        session,
        user_id=user.id,
        action="delete",
        entity="scenario_quote",
        entity_id=str(quote.id),
        before={"vendor": quote.vendor, **quote_prices(quote)},
        prefecture_code=scenario.prefecture_code,
        detail=f"シナリオ「{scenario.name}」の見積（{_category_name(session, quote.category_id)}・"
        f"{MODE_LABELS.get(quote.mode, quote.mode)}：{quote.vendor}）を削除し単価表の値に戻した",
    )
    session.delete(quote)


def copy_quotes(session: Session, source_id: int, target_id: int) -> int:
    """A copied scenario keeps its prices: the quotes come along."""
    n = 0
    for q in scenario_quotes(session, source_id):
        session.add(
            ScenarioQuote(
                scenario_id=target_id,
                category_id=q.category_id,
                mode=q.mode,
                vendor=q.vendor,
                quoted_on=q.quoted_on,
                reference=q.reference,
                based_on=q.based_on,
                **{f: getattr(q, f) for f in PRICE_FIELDS},
                lines=list(q.lines or []),
                max_members=q.max_members,
                updated_by=q.updated_by,
            )
        )
        n += 1
    return n


def delete_for_scenarios(session: Session, scenario_ids: Iterable[int]) -> None:
    ids = list(scenario_ids)
    if ids:
        session.exec(delete(ScenarioQuote).where(col(ScenarioQuote.scenario_id).in_(ids)))


def _category_name(session: Session, category_id: str) -> str:
    cat = session.get(Category, category_id)
    return _short(cat.name) if cat else category_id
