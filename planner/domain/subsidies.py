"""Subsidy estimates per member (補助金・特別交付税措置の見込額; spec subsidy-rules.md).

Rates, caps, eligibility and the 財政力補正 table are rule data (planner/data/subsidy_rules/*.json, schema in the
README there); this module only applies them. For a member's joint share and again for its standalone alternative:
gross share -> grant (1/2 grant: body kind, data plan, per-project cap; a lead-mode group is one project sharing
one cap) -> special allocation tax on (initial share - grant) -> net burden.

Yen: a grant or tax estimate is rounded down to the yen (an estimate never promises a yen it cannot cover); a cap
shared by a lead-mode group is split in proportion to the uncapped grants by the largest-remainder rule (ties to
the lead, then the members' order). The special-tax base cap is per body and fiscal year, so a ``CapLedger``
carries what earlier groups of the same plan already used.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping, Sequence

from .allocation import priority_order, split_yen
from .model import BODY_KINDS, MODES, Body, Instance

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "subsidy_rules"
RULES_SCHEMA = "kyodo-planner-subsidy-rules/1"

REASON_KIND = "対象外の団体種別"
REASON_DATA_PLAN = "推進計画未提出"
REASON_CAP = "上限到達"
REASON_NO_INITIAL = "初期費用の負担なし"
REASON_NOT_DISADVANTAGED = "条件不利地域なし"
REASON_NO_MEASURE = "対象となる措置なし"
REASON_NO_BASE = "補助金控除後の初期負担なし"

KIND_LABELS = {"prefecture": "都道府県", "designated_city": "指定都市", "city": "市", "special_ward": "特別区",
               "town": "町", "village": "村"}


class SubsidyRulesError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("補助制度ルールに誤りがあります: " + " / ".join(problems))
        self.problems = problems


# --- rule data ------------------------------------------------------------------------------------------------


def default_rules() -> dict[str, Any]:
    """The newest shipped rule set (highest fiscal_year, then version)."""
    docs = []
    for path in sorted(RULES_DIR.glob("*.json")):
        docs.append(json.loads(path.read_text(encoding="utf-8")))
    if not docs:
        raise SubsidyRulesError([f"{RULES_DIR} に補助制度ルールのファイルがありません"])
    return max(docs, key=lambda d: (int(d.get("fiscal_year", 0)), str(d.get("version", ""))))


def validate_rules(doc: Any) -> list[str]:
    """Every problem of a rule document, in Japanese, each naming the field (empty when the document is usable)."""
    if not isinstance(doc, dict):
        return ["ルール全体が JSON オブジェクトではありません"]
    problems: list[str] = []
    fy = doc.get("fiscal_year")
    if isinstance(fy, bool) or not isinstance(fy, int) or not 1989 <= fy <= 2200:
        problems.append("fiscal_year: 年度（例 2026）を整数で指定してください")
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > 40:
        problems.append("version: 40 文字以内の版名（例 R8-1）を指定してください")
    source_ids = set()
    sources = doc.get("sources")
    if not isinstance(sources, list) or not sources:
        problems.append("sources: 出典（総務省資料の題名）を 1 件以上指定してください")
    else:
        for k, s in enumerate(sources):
            if not isinstance(s, dict) or not isinstance(s.get("id"), str) or not str(s.get("title", "")).strip():
                problems.append(f"sources[{k}]: id と title（資料名）が必要です")
            else:
                source_ids.add(s["id"])

    def figure(path: str, node: Any, check) -> None:
        if not isinstance(node, dict) or "value" not in node:
            problems.append(f"{path}: {{\"value\": ..., \"sources\": [...]}} の形で指定してください")
            return
        cited = node.get("sources")
        if not isinstance(cited, list) or not cited:
            problems.append(f"{path}.sources: この数値の出典を指定してください")
        else:
            for c in cited:
                if c not in source_ids:
                    problems.append(f"{path}.sources: 出典 {c!r} が sources にありません")
        message = check(node["value"])
        if message:
            problems.append(f"{path}.value: {message}")

    grant = doc.get("grant")
    if not isinstance(grant, dict):
        problems.append("grant: 補助金（地域IoT実装・共同利用推進事業）の定義がありません")
    else:
        if not str(grant.get("name", "")).strip():
            problems.append("grant.name: 制度名を指定してください")
        figure("grant.rate", grant.get("rate"), _check_rate)
        figure("grant.cap_per_project_yen", grant.get("cap_per_project_yen"), _check_yen)
        figure("grant.eligible_part", grant.get("eligible_part"),
               lambda v: None if v == "initial" else "現在は \"initial\"（初期費用）のみ扱えます")
        figure("grant.ineligible_kinds", grant.get("ineligible_kinds"), _check_kinds)
        figure("grant.requires_data_plan", grant.get("requires_data_plan"),
               lambda v: None if isinstance(v, bool) else "true か false を指定してください")
        figure("grant.project_scope", grant.get("project_scope"), _check_scope)
    special = doc.get("special_tax")
    if not isinstance(special, dict) or not isinstance(special.get("measures"), list):
        problems.append("special_tax.measures: 特別交付税措置の一覧がありません")
    else:
        ids = set()
        for k, m in enumerate(special["measures"]):
            path = f"special_tax.measures[{k}]"
            if not isinstance(m, dict):
                problems.append(f"{path}: JSON オブジェクトではありません")
                continue
            if not isinstance(m.get("id"), str) or not m["id"] or m["id"] in ids:
                problems.append(f"{path}.id: 重複しない id を指定してください")
            ids.add(m.get("id"))
            if not str(m.get("name", "")).strip():
                problems.append(f"{path}.name: 措置の名称を指定してください")
            figure(f"{path}.programs", m.get("programs"), _check_programs)
            figure(f"{path}.requires_disadvantaged", m.get("requires_disadvantaged"),
                   lambda v: None if isinstance(v, bool) else "true か false を指定してください")
            figure(f"{path}.base_cap_yen", m.get("base_cap_yen"), _check_base_cap)
            if not isinstance(m.get("fiscal_correction"), bool):
                problems.append(f"{path}.fiscal_correction: 財政力補正の有無を true か false で指定してください")
    correction = doc.get("fiscal_correction")
    if not isinstance(correction, dict) or "table" not in correction:
        problems.append("fiscal_correction.table: 財政力補正の表（未設定なら null）がありません")
    else:
        problems.extend(_check_correction_table(correction["table"]))
        cited = correction.get("sources")
        if not isinstance(cited, list) or not cited or any(c not in source_ids for c in cited):
            problems.append("fiscal_correction.sources: sources にある出典を指定してください")
    return problems


def _check_rate(v) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
        return "0 より大きく 1 以下の数値にしてください"
    return None


def _check_yen(v) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        return "0 以上の整数（円）にしてください"
    return None


def _check_kinds(v) -> str | None:
    if not isinstance(v, list) or any(k not in BODY_KINDS for k in v):
        return f"団体種別の一覧にしてください（{', '.join(BODY_KINDS)}）"
    return None


def _check_scope(v) -> str | None:
    if not isinstance(v, dict) or set(v) != set(MODES) or any(s not in ("group", "member") for s in v.values()):
        return "lead, unified, standalone のそれぞれに \"group\" か \"member\" を指定してください"
    return None


def _check_programs(v) -> str | None:
    if not isinstance(v, dict) or not v:
        return "区分（sat_program）ごとの措置率を指定してください"
    for k, rate in v.items():
        if _check_rate(rate):
            return f"区分 {k} の措置率は 0 より大きく 1 以下の数値にしてください"
    return None


def _check_base_cap(v) -> str | None:
    if v is None:
        return None
    if not isinstance(v, dict) or set(v) != {"municipality", "prefecture"} or any(_check_yen(x) for x in v.values()):
        return "null か、municipality と prefecture の上限（円、整数）にしてください"
    return None


def _check_correction_table(table) -> list[str]:
    if table is None:
        return []
    if not isinstance(table, list) or not table:
        return ["fiscal_correction.table: null（未設定）か、行の一覧にしてください"]
    problems = []
    ranges = []
    for k, row in enumerate(table):
        path = f"fiscal_correction.table[{k}]"
        if not isinstance(row, dict):
            problems.append(f"{path}: JSON オブジェクトではありません")
            continue
        lo, hi, coef = row.get("min_index"), row.get("max_index"), row.get("coefficient")
        if isinstance(lo, bool) or not isinstance(lo, (int, float)) or lo < 0:
            problems.append(f"{path}.min_index: 0 以上の財政力指数を指定してください")
            continue
        if hi is not None and (isinstance(hi, bool) or not isinstance(hi, (int, float)) or hi <= lo):
            problems.append(f"{path}.max_index: min_index より大きい数値か null（上限なし）にしてください")
            continue
        if isinstance(coef, bool) or not isinstance(coef, (int, float)) or not 0 <= coef <= 2:
            problems.append(f"{path}.coefficient: 0 以上 2 以下の補正係数を指定してください")
            continue
        ranges.append((lo, math.inf if hi is None else hi, k))
    ranges.sort()
    for (lo1, hi1, k1), (lo2, hi2, k2) in zip(ranges, ranges[1:]):
        if lo2 < hi1:
            problems.append(f"fiscal_correction.table[{k1}] と [{k2}]: 財政力指数の範囲が重なっています")
    return problems


def _value(node: Mapping[str, Any]):
    return node["value"]


def _fraction(x) -> Fraction:
    return Fraction(str(x))


# --- the estimate ---------------------------------------------------------------------------------------------


@dataclass
class CapLedger:
    """Special-tax base already counted per (body, fiscal year, measure): a measure's base cap is per body and year."""

    used: dict[tuple[str, int, str], int] = field(default_factory=dict)


def grant_rule_text(rules: Mapping[str, Any]) -> str:
    g = rules["grant"]
    rate = _fraction(_value(g["rate"]))
    return (f"{g['name']}（補助率{rate.numerator}/{rate.denominator}、上限{_value(g['cap_per_project_yen']):,}円/事業、"
            "対象は初期費用、1円未満切捨て）")


def grant_estimates(instance: Instance, mode: str, lead_body: str | None, member_ids: Sequence[str],
                    initial: Mapping[str, int], rules: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The 1/2 grant of each member on its initial share (``initial``), the project scope decided by ``mode``."""
    g = rules["grant"]
    rate = _fraction(_value(g["rate"]))
    cap = int(_value(g["cap_per_project_yen"]))
    ineligible = set(_value(g["ineligible_kinds"]))
    needs_plan = bool(_value(g["requires_data_plan"]))
    scope = _value(g["project_scope"]).get(mode, "member")
    rule = grant_rule_text(rules)
    out: dict[str, dict[str, Any]] = {}
    uncapped: dict[str, int] = {}
    for nid in member_ids:
        body = instance.bodies[instance.need(nid).body]
        reason = None
        if body.kind in ineligible:
            reason = f"{REASON_KIND}（{KIND_LABELS.get(body.kind, body.kind)}は補助対象外）"
        elif needs_plan and not body.has_data_plan and body.kind != "prefecture":
            reason = f"{REASON_DATA_PLAN}（市町村官民データ活用推進計画が未提出のため補助対象外）"
        elif initial[nid] <= 0:
            reason = REASON_NO_INITIAL
        amount = 0 if reason else math.floor(rate * initial[nid])
        uncapped[nid] = amount
        out[nid] = {"amount_yen": amount, "rule": rule, "reason": reason, "eligible": reason is None,
                    "project": "グループ全体で1事業" if scope == "group" else "団体ごとに1事業"}
    if scope == "group":
        total = sum(uncapped.values())
        if total > cap:
            order = priority_order(list(member_ids), next(
                (k for k, nid in enumerate(member_ids) if instance.need(nid).body == lead_body), None))
            scaled = split_yen(cap, [uncapped[nid] for nid in member_ids], order)
            for nid, amount in zip(member_ids, scaled):
                if uncapped[nid] == 0:
                    continue
                out[nid]["amount_yen"] = amount
                out[nid]["capped"] = True
                out[nid]["reason"] = (f"{REASON_CAP}（グループ全体の補助見込額 {total:,}円 が上限 {cap:,}円 を超えるため、"
                                      f"各団体の額を同じ割合で減額）")
    else:
        for nid in member_ids:
            if uncapped[nid] > cap:
                out[nid]["amount_yen"] = cap
                out[nid]["capped"] = True
                out[nid]["reason"] = f"{REASON_CAP}（1事業あたりの上限 {cap:,}円）"
    return out


def correction_for(body: Body, rules: Mapping[str, Any]) -> tuple[float, str | None]:
    """The 財政力補正 coefficient of ``body`` and a warning when it could not be applied."""
    table = (rules.get("fiscal_correction") or {}).get("table")
    if table is None:
        return 1.0, "財政力補正の表が未設定のため、補正係数を1.0として計算しています（管理者が設定すると反映されます）。"
    fsi = body.fiscal_strength_index
    if fsi is None:
        return 1.0, f"{body.name}の財政力指数が未登録のため、補正係数を1.0として計算しています。"
    for row in table:
        hi = row.get("max_index")
        if row["min_index"] <= fsi and (hi is None or fsi < hi):
            return float(row["coefficient"]), None
    return 1.0, f"財政力指数 {fsi} に当てはまる補正表の行がないため、補正係数を1.0として計算しています。"


def special_tax_estimate(instance: Instance, need_id: str, base_yen: int, rules: Mapping[str, Any],
                         ledger: CapLedger | None = None, year: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """The special allocation tax on ``base_yen`` (initial share minus grant): every measure that covers the
    category's programme is estimated, the larger is taken (ties: the first in the rule data)."""
    need = instance.need(need_id)
    body = instance.bodies[need.body]
    program = instance.categories[need.category].sat_program
    year = need.start_year if year is None else year
    notes: list[str] = []
    candidates = []
    reasons = []
    for m in rules["special_tax"]["measures"]:
        programs = _value(m["programs"])
        if program not in programs:
            continue
        if _value(m["requires_disadvantaged"]) and not body.disadvantaged:
            reasons.append(f"{REASON_NOT_DISADVANTAGED}（「{m['name']}」は条件不利地域を有する団体が対象）")
            continue
        rate = _fraction(programs[program])
        coefficient, warning = (correction_for(body, rules) if m.get("fiscal_correction") else (1.0, None))
        if warning and warning not in notes:
            notes.append(warning)
        base = max(0, base_yen)
        caps = _value(m["base_cap_yen"])
        cap_note = None
        if caps is not None:
            cap = int(caps["prefecture" if body.kind == "prefecture" else "municipality"])
            used = ledger.used.get((body.code, year, m["id"]), 0) if ledger else 0
            room = max(0, cap - used)
            if base > room:
                cap_note = (f"{REASON_CAP}（措置対象経費の上限 {cap:,}円/年" +
                            (f"、同年度の他の事業で {used:,}円 使用済み" if used else "") + "）")
                base = room
        amount = math.floor(base * rate * _fraction(coefficient))
        candidates.append({"amount_yen": amount, "measure": m["name"], "measure_id": m["id"], "rate": float(rate),
                           "correction": coefficient, "base_yen": base, "reason": cap_note,
                           "capped_by_base": cap_note is not None, "_cap": caps is not None})
    if not candidates:
        reason = reasons[0] if reasons else f"{REASON_NO_MEASURE}（分野の区分 {program}）"
        return ({"amount_yen": 0, "measure": None, "rate": None, "correction": None, "base_yen": max(0, base_yen),
                 "reason": reason, "rule": rules["special_tax"].get("name", "特別交付税措置")}, notes)
    best = max(candidates, key=lambda c: c["amount_yen"])  # max keeps the first of equals: rule-data order
    if len(candidates) > 1:
        notes.append(f"複数の措置が該当するため、見込額の大きい「{best['measure']}」で計算しています（重複計上なし）。")
    if best["amount_yen"] == 0 and best["reason"] is None:
        best["reason"] = REASON_NO_BASE
    if ledger is not None and best.pop("_cap"):
        key = (body.code, year, best["measure_id"])
        ledger.used[key] = ledger.used.get(key, 0) + best["base_yen"]
    best.pop("_cap", None)
    best["rule"] = (f"特別交付税措置「{best['measure']}」（措置率{best['rate']}×財政力補正{best['correction']}、"
                    "補助金控除後の初期負担が対象、1円未満切捨て）")
    return best, notes


def _burden(gross: Mapping[str, int], grant: Mapping[str, Any], special: Mapping[str, Any]) -> dict[str, Any]:
    return {"gross": dict(gross), "grant": dict(grant), "special_tax": dict(special),
            "grant_yen": grant["amount_yen"], "special_tax_yen": special["amount_yen"],
            "net_yen": gross["total_yen"] - grant["amount_yen"] - special["amount_yen"]}


def estimate_group(instance: Instance, mode: str, lead_body: str | None, member_ids: Sequence[str],
                   shares: Mapping[str, Mapping[str, int]], standalone: Mapping[str, Mapping[str, int]],
                   rules: Mapping[str, Any], ledger: CapLedger | None = None,
                   standalone_ledger: CapLedger | None = None) -> dict[str, dict[str, Any]]:
    """The subsidy record of each member (PlanGroup.subsidies): its joint share and its standalone alternative.

    ``shares`` and ``standalone`` map need ids to {"initial_yen", "annual_yen", "total_yen"}."""
    version = rules.get("version")
    sources = [s["title"] for s in rules.get("sources", [])]
    joint_grants = grant_estimates(instance, mode, lead_body, member_ids,
                                   {n: int(shares[n]["initial_yen"]) for n in member_ids}, rules)
    out: dict[str, dict[str, Any]] = {}
    for nid in member_ids:
        gross = {k: int(shares[nid][k]) for k in ("initial_yen", "annual_yen", "total_yen")}
        alone = {k: int(standalone[nid][k]) for k in ("initial_yen", "annual_yen", "total_yen")}
        grant = joint_grants[nid]
        special, notes = special_tax_estimate(instance, nid, gross["initial_yen"] - grant["amount_yen"], rules,
                                              ledger)
        joint = _burden(gross, grant, special)
        alone_grant = grant_estimates(instance, "standalone", None, [nid], {nid: alone["initial_yen"]}, rules)[nid]
        alone_special, alone_notes = special_tax_estimate(
            instance, nid, alone["initial_yen"] - alone_grant["amount_yen"], rules, standalone_ledger)
        solo = _burden(alone, alone_grant, alone_special)
        all_notes = [f"補助金・特別交付税の額はいずれも見込額です（算定ルール {version}）。"]
        for n in notes + alone_notes:
            if n not in all_notes:
                all_notes.append(n)
        if grant["amount_yen"] < alone_grant["amount_yen"]:
            all_notes.append(f"共同調達で初期費用が下がるため、補助金の見込額は単独調達より "
                             f"{alone_grant['amount_yen'] - grant['amount_yen']:,}円 少なくなります。")
        if grant.get("reason") and grant["amount_yen"] == 0:
            all_notes.append(f"補助金の見込額は0円です: {grant['reason']}")
        if special.get("reason") and special["amount_yen"] == 0:
            all_notes.append(f"特別交付税の見込額は0円です: {special['reason']}")
        out[nid] = {
            "grant_yen": joint["grant_yen"], "special_tax_yen": joint["special_tax_yen"],
            "special_tax_measure": special["measure"], "net_yen": joint["net_yen"], "notes": all_notes,
            "gross": joint["gross"], "grant": joint["grant"], "special_tax": joint["special_tax"],
            "standalone": solo, "standalone_net_yen": solo["net_yen"],
            "net_saving_yen": solo["net_yen"] - joint["net_yen"],
            "gross_saving_yen": alone["total_yen"] - gross["total_yen"],
            "rule_version": version, "sources": sources,
        }
    return out


def standalone_net_yen(record: Mapping[str, Any]) -> int | None:
    """A member's net burden going alone, read from its subsidy record (None where the record has no standalone
    alternative, as in plans written before the alternative was estimated)."""
    value = record.get("standalone_net_yen")
    if value is None and isinstance(record.get("standalone"), Mapping):
        value = record["standalone"].get("net_yen")
    return None if value is None else int(value)
