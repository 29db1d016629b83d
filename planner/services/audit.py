"""The audit log: who changed what, when, with the values before and after.

``record`` only adds the row to the caller's session, so the entry is committed (or rolled back) together with
the change it describes: an audit entry never claims a change that did not happen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from planner.db.models import AuditLog

ACTION_LABELS = {
    "create": "作成",
    "update": "更新",
    "delete": "削除",
    "withdraw": "取下げ",
    "restore": "再登録",
    "import": "取込",
    "export": "出力",
    "run": "計算実行",
    "cancel": "計算中止",
    "login": "ログイン",
    "login_failed": "ログイン失敗",
    "login_blocked": "ログイン制限",
    "login_pending": "ログイン確認中",
    "logout": "ログアウト",
    "forbidden": "権限なし",
    "deactivate": "無効化",
    "activate": "有効化",
    "reset_password": "パスワード再設定",
    "adopt": "確定",
    "publish": "公表",
    "extend": "回答期限の変更",
    "answer": "回答",
    "remind": "回答の催促",
    "replan": "再計画",
    "invite": "協議会への招待",
    "invitation_accepted": "協議会への参加",
    "invitation_refused": "協議会の辞退",
    "reissue_code": "登録コードの再発行",
}
ENTITY_LABELS = {
    "need": "ニーズ",
    "body": "団体",
    "user": "利用者",
    "price_book": "単価表",
    "subsidy_rule_set": "補助制度ルール",
    "effect_model": "導入効果モデル",
    "scenario": "シナリオ",
    "plan": "計画",
    "data_vintage": "公的データ",
    "api": "API",
    "page": "画面",
    "plan_release": "計画の版",
    "member_answer": "参加の回答",
    "scenario_quote": "見積",
    "partnership": "協議会",
}


def _jsonable(value: Any) -> Any:
    """JSON columns accept only plain values; dates and other objects are stored as text."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def record(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: Any,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    prefecture_code: str | None = None,
    body_code: str | None = None,
    detail: str = "",
) -> AuditLog:
    """Add an audit entry to the caller's transaction (the caller commits)."""
    entry = AuditLog(
        user_id=user_id,
        action=action[:40],
        entity=entity[:40],
        entity_id=str(entity_id or "")[:60],
        prefecture_code=prefecture_code,
        body_code=body_code,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        detail=detail or "",
    )
    session.add(entry)
    return entry
