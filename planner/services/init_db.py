"""``planner init-db``: schema to the newest migration, then master bodies and reference data; idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from planner.db.migrate import upgrade
from planner.db.session import session_scope

from .bodies import MasterSyncReport, sync_master_bodies
from .effect_models import load_effect_models
from .reference_bodies import ReferenceLoadReport, load_reference_bodies
from .reference_data import RulesLoadReport, load_price_book_file, load_subsidy_rules


@dataclass
class InitReport:
    revision_before: str | None
    revision_after: str
    bodies: MasterSyncReport
    price_book_loaded: str | None
    rules: RulesLoadReport
    effect_models_loaded: list[str] = field(default_factory=list)
    reference: ReferenceLoadReport | None = None

    @property
    def changed(self) -> bool:
        return (
            self.revision_before != self.revision_after
            or self.bodies.changed
            or self.price_book_loaded is not None
            or bool(self.rules.loaded)
            or bool(self.effect_models_loaded)
            or bool(self.reference and (self.reference.population or self.reference.fiscal))
        )

    def lines(self) -> list[str]:
        schema = (
            f"スキーマを {self.revision_before or '空'} から {self.revision_after} に更新しました"
            if self.revision_before != self.revision_after
            else f"スキーマは最新です（{self.revision_after}）"
        )
        out = [schema]
        b = self.bodies
        if b.changed:
            out.append(f"団体: {b.added} 件追加、{len(b.updated)} 件の名称・種別・位置を更新しました")
        else:
            out.append("団体: 変更なし（全国 1,788 団体）" if not b.not_in_master else "団体: 変更なし")
        if b.not_in_master:
            out.append(
                f"注意: 全国団体リストにない団体が {len(b.not_in_master)} 件あります（残しています）: "
                + "、".join(b.not_in_master[:10])
            )
        if self.reference is not None:
            out.append(self.reference.line())
        out.append(f"単価表: {self.price_book_loaded} を登録しました" if self.price_book_loaded else "単価表: 変更なし")
        out.append(
            f"補助制度ルール: {'、'.join(self.rules.loaded)} を登録しました"
            if self.rules.loaded
            else "補助制度ルール: 変更なし"
        )
        if self.rules.current:
            out.append(f"現行の補助制度ルール: {self.rules.current}")
        out.append(
            f"導入効果モデル: {'、'.join(self.effect_models_loaded)} を登録しました"
            if self.effect_models_loaded
            else "導入効果モデル: 変更なし"
        )
        return out


def init_database(engine: Engine) -> InitReport:
    before, after = upgrade(engine)
    # One transaction for the data: a broken rule file leaves no half-loaded reference data behind.
    with session_scope(engine) as session:
        bodies = sync_master_bodies(session)
        reference = load_reference_bodies(session)
        book = load_price_book_file(session)
        rules = load_subsidy_rules(session)
        effect_models = load_effect_models(session)
    return InitReport(before, after, bodies, book.version if book else None, rules, effect_models, reference)
