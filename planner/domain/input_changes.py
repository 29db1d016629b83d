"""What a plan was computed from, and what has changed since: the snapshot stored when a plan is published and
the list of differences a page shows when the current inputs no longer match it.

A snapshot is a plain JSON-able dict made from an instance document (``instance_to_dict``) plus the subsidy rule
version; its fingerprint is the SHA-256 of its canonical JSON, so "nothing changed" is one string comparison and
the detailed diff runs only when the fingerprints differ. It holds every input that changes a figure
(tests/domain/test_input_changes.py walks the domain model's fields to keep it so). A field a snapshot stored
before it was covered is not compared: what it was at publication is not known, and saying it changed would be a
guess.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .need_fields import figure_keys
from .vocabulary import BODY_FIELD_LABELS, MODE_SHORT, NEED_FIELD_LABELS

MODES = ("standalone", "lead", "unified")  # the order changes are listed in

BODY_FIELDS = BODY_FIELD_LABELS  # the body inputs that change a figure, by their labels


@dataclass(frozen=True)
class InputChange:
    """One difference between the published inputs and today's: kind is need_added / need_edited /
    need_withdrawn / prices / rules / body / settings."""

    kind: str
    text: str


def snapshot(instance_doc: Mapping[str, Any], *, rule_version: str = "", price_source: str = "") -> dict[str, Any]:
    """The inputs that decide a plan's figures, in a canonical form."""
    needs = {}
    keys = figure_keys()  # every need field that changes a figure (planner.domain.need_fields)
    for n in instance_doc.get("needs") or []:
        needs[str(n["id"])] = {k: (sorted(n[k]) if k == "modes" else n.get(k)) for k in keys if k in n}
    names = {b["code"]: b.get("name", b["code"]) for b in instance_doc.get("bodies") or []}
    bodies = {b["code"]: {k: b.get(k) for k in BODY_FIELDS} for b in instance_doc.get("bodies") or []}
    categories = {}
    for c in instance_doc.get("categories") or []:
        categories[c["id"]] = {
            "name": c.get("name", c["id"]),
            "prices": {m: c[m] for m in MODES if isinstance(c.get(m), Mapping)},
        }
    return {
        "needs": needs,
        "names": names,
        "bodies": bodies,
        "categories": categories,
        "rules": instance_doc.get("rules") or {},
        "allocation": instance_doc.get("allocation") or {},
        "hosts": instance_doc.get("hosts") or [],
        "fiscal_year": instance_doc.get("fiscal_year"),
        "horizon_years": instance_doc.get("horizon_years"),
        "rule_version": rule_version,
        "price_source": price_source,
    }


def fingerprint(snap: Mapping[str, Any]) -> str:
    canonical = json.dumps(snap, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _need_label(snap: Mapping[str, Any], categories: Mapping[str, Any], need: Mapping[str, Any]) -> str:
    body = snap.get("names", {}).get(need.get("body"), need.get("body"))
    cat = categories.get(need.get("category") or "", {}).get("name", need.get("category"))
    return f"{body}の{_short(str(cat))}（{need.get('start_year')}年度）"


def _short(name: str) -> str:
    return name.split("（", 1)[0]


def _value(field: str, value: Any) -> str:
    if field == "modes":
        return "・".join(MODE_SHORT.get(m, m) for m in value or []) or "なし"
    if isinstance(value, bool):
        return "可" if value else "不可"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, (int, float)):
        return f"{value:,}"
    return "未設定" if value is None else str(value)


def diff(published: Mapping[str, Any], current: Mapping[str, Any]) -> list[InputChange]:
    """Every difference between two snapshots, in words, needs first."""
    out: list[InputChange] = []
    cats = {**published.get("categories", {}), **current.get("categories", {})}
    old_needs, new_needs = published.get("needs", {}), current.get("needs", {})
    for key in sorted(set(new_needs) - set(old_needs), key=_need_order):
        out.append(InputChange("need_added", f"ニーズの追加: {_need_label(current, cats, new_needs[key])}"))
    for key in sorted(set(old_needs) - set(new_needs), key=_need_order):
        out.append(
            InputChange("need_withdrawn", f"ニーズの取下げ・対象外: {_need_label(published, cats, old_needs[key])}")
        )
    need_keys = figure_keys()
    for key in sorted(set(old_needs) & set(new_needs), key=_need_order):
        a, b = old_needs[key], new_needs[key]
        fields = [f for f in need_keys if f in a and a.get(f) != b.get(f)]
        if fields:
            what = "、".join(f"{NEED_FIELD_LABELS[f]} {_value(f, a.get(f))} → {_value(f, b.get(f))}" for f in fields)
            out.append(InputChange("need_edited", f"ニーズの変更: {_need_label(current, cats, b)}: {what}"))
    old_cats, new_cats = published.get("categories", {}), current.get("categories", {})
    for cid in sorted(set(old_cats) | set(new_cats)):
        a = (old_cats.get(cid) or {}).get("prices", {})
        b = (new_cats.get(cid) or {}).get("prices", {})
        modes = [m for m in MODES if a.get(m) != b.get(m)]
        if modes:
            name = _short(str(cats.get(cid, {}).get("name", cid)))
            out.append(InputChange("prices", f"単価の変更: {name}（{'・'.join(MODE_SHORT[m] for m in modes)}）"))
    if published.get("price_source") != current.get("price_source"):
        out.append(
            InputChange(
                "prices", f"価格の出典: {published.get('price_source') or '—'} → {current.get('price_source') or '—'}"
            )
        )
    if published.get("rule_version") != current.get("rule_version"):
        out.append(
            InputChange(
                "rules",
                f"補助制度ルールの版: {published.get('rule_version') or '—'} → {current.get('rule_version') or '—'}",
            )
        )
    names = {**published.get("names", {}), **current.get("names", {})}
    old_bodies, new_bodies = published.get("bodies", {}), current.get("bodies", {})
    for code in sorted(set(old_bodies) & set(new_bodies)):
        a, b = old_bodies[code], new_bodies[code]
        fields = [f for f in BODY_FIELDS if f in a and a.get(f) != b.get(f)]
        if fields:
            what = "、".join(f"{BODY_FIELDS[f]} {_value(f, a.get(f))} → {_value(f, b.get(f))}" for f in fields)
            out.append(InputChange("body", f"団体データの変更: {names.get(code, code)}: {what}"))
    for key, label in (
        ("rules", "共同・別グループ・固定の指定や地理条件"),
        ("allocation", "按分方法"),
        ("hosts", "幹事（受託）団体"),
        ("fiscal_year", "年度"),
        ("horizon_years", "算定期間"),
    ):
        if published.get(key) != current.get(key):
            out.append(InputChange("settings", f"条件の変更: {label}"))
    if set(old_bodies) != set(new_bodies):
        out.append(InputChange("settings", "条件の変更: 対象団体"))
    return out


def _need_order(key: str) -> tuple[int, str]:
    digits = key[1:] if key.startswith("n") else key
    return (int(digits), key) if digits.isdigit() else (0, key)
