"""The subsidy rule set as a form: one block per term of the document (a rate, a cap, the categories a measure covers,
a condition), each with its value inputs, the source's wording (the quote) and the sources it cites.

The form is built from the base document (how many measures, which categories), so every term of the rule data is
on it; the raw JSON is only an export and an import. Values are read here, where they can be told apart per input
(a rate that is not a number, one mode of three left blank); everything else is the domain's validator, whose
problems name a path in the document (grant.rate.value.lead) that :func:`place_problem` puts under its input.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from planner.domain.model import BODY_KINDS, MODES
from planner.domain.vocabulary import BODY_KIND_LABELS, MODE_LABELS
from planner.importers.needs import volume_value

from .admin import CorrectionRowForm

SCOPE_LABELS = {"group": "グループで1事業（幹事団体が実施主体）", "member": "団体ごとに1事業"}
ROUNDING_LABELS = {"yen": "1円未満切捨て", "thousand_yen": "千円未満切捨て"}
NEED_REQUIREMENT_LABELS = {
    "": "ニーズへの要件なし",
    "serves_disadvantaged_area": "条件不利地域で住民生活の維持・向上に必要なサービスであること（ニーズの印）",
}
GRANT_CATEGORY_LABELS = {"": "対象外", "対象": "対象", "要確認": "要確認（見込額に要確認と理由を添える）"}
GRANT_CATEGORY_KEYS = ("status", "quote", "reason")
ELIGIBLE_PART_LABELS = {"initial": "初期投資・連携体制の構築等にかかる経費（初期費用）"}
APPLIES_TO_LABELS = {"initial_after_grant": "導入経費のうち団体が負担する一般財源（初期費用の負担額 − 補助金）"}
CAP_KINDS = (("municipality", "市町村"), ("prefecture", "道府県"))
FORM_MODES = ("lead", "unified", "standalone")  # the columns' order on the form
assert set(FORM_MODES) == set(MODES)


class NumberText(StringField):
    """A number typed as people type it (full-width digits, thousands separators); ``number`` is the value or None
    when blank, and a value that is not a number fails with a Japanese message naming what was typed."""

    number: float | None = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        raw = (self.data or "").strip()
        self.number = None if not raw else volume_value(raw.replace("，", ","))
        self._bad = bool(raw) and self.number is None

    def pre_validate(self, form):
        if getattr(self, "_bad", False):
            raise ValidationError(f"数値を入力してください（「{self.data}」）")

    def _value(self):
        return self.data if isinstance(self.data, str) else ("" if self.data is None else f"{self.data:g}")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


@dataclass(frozen=True)
class Term:
    """One cited figure of the rule document: where it is, what it is called on the form, and its kind."""

    path: tuple[Any, ...]  # keys into the document, e.g. ("special_tax", "measures", 0, "categories")
    label: str
    kind: str  # mode_rates | yen | rounding | eligible_part | applies_to | kinds | bool | scope | category_rates
    #            | grant_categories    #            | need_requirement | base_cap | correction (wording and sources only: the table has its own inputs)

    @property
    def dotted(self) -> str:
        out = ""
        for key in self.path:
            out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
        return out

    @property
    def slug(self) -> str:
        return "t_" + re.sub(r"\W+", "_", self.dotted)


GENERAL_TERMS = (
    (("rounding",), "端数処理", "rounding"),
    (("grant", "rate"), "補助率", "mode_rates"),
    (("grant", "cap_per_project_yen"), "補助額の上限（1事業あたり、円）", "yen"),
    (("grant", "eligible_part"), "補助対象経費", "eligible_part"),
    (("grant", "ineligible_kinds"), "補助の対象外とする団体種別", "kinds"),
    (("grant", "categories"), "補助の対象分野（分野ごとに 対象・要確認・対象外）", "grant_categories"),
    (("grant", "requires_data_plan"), "市町村が実施主体のとき、官民データ活用推進計画の提出を条件とする", "bool"),
    (("grant", "project_scope"), "事業の単位（実施主体）", "scope"),
    (("grant", "competitive"), "公募・評価による採択", "bool"),
    (("special_tax", "applies_to"), "特別交付税措置の対象経費", "applies_to"),
    (("special_tax", "excluded_kinds"), "特別交付税の算定対象外とする団体種別", "kinds"),
    (("special_tax", "excludes_no_allocation_tax_bodies"), "普通交付税の不交付団体は見込額0円とする", "bool"),
)
MEASURE_TERMS = (
    ("categories", "措置率（分野ごと。空欄の分野は対象外）", "category_rates"),
    ("requires_disadvantaged", "条件不利地域を有する団体に限る", "bool"),
    ("need_requirement", "ニーズへの要件", "need_requirement"),
    ("base_cap_yen", "各年度の事業費上限額（円。空欄は上限なし）", "base_cap"),
    ("fiscal_correction", "財政力補正を掛ける", "bool"),
)


def measures_of(doc: dict) -> list[dict]:
    special = doc.get("special_tax") if isinstance(doc, dict) else None
    listed = special.get("measures") if isinstance(special, dict) else None
    return [m if isinstance(m, dict) else {} for m in listed] if isinstance(listed, list) else []


def terms_of(doc: dict) -> list[Term]:
    """Every term the form edits, in the document's order."""
    terms = [Term(path, label, kind) for path, label, kind in GENERAL_TERMS]
    for k, m in enumerate(measures_of(doc)):
        name = str(m.get("name") or m.get("id") or f"措置{k + 1}")
        terms += [
            Term(("special_tax", "measures", k, key), f"{name}：{label}", kind) for key, label, kind in MEASURE_TERMS
        ]
    terms.append(Term(("fiscal_correction",), "財政力補正の表", "correction"))
    return terms


def _value_fields(term: Term, categories: list[tuple[str, str]]) -> dict[str, Any]:
    """The value inputs of one term, by name (the wording and sources are added by the caller)."""
    if term.kind == "mode_rates":
        return {mode: NumberText(f"{term.label}（{MODE_LABELS[mode]}）") for mode in MODES}
    if term.kind == "category_rates":
        return {
            f"{cid}__{mode}": NumberText(f"{name}（{MODE_LABELS[mode]}）") for cid, name in categories for mode in MODES
        }
    if term.kind == "grant_categories":
        out: dict[str, Any] = {}
        for cid, name in categories:
            out[f"{cid}__status"] = SelectField(f"{name}：扱い", choices=list(GRANT_CATEGORY_LABELS.items()))
            out[f"{cid}__quote"] = StringField(f"{name}：根拠となる資料の記載", validators=[Length(max=300)])
            out[f"{cid}__reason"] = StringField(f"{name}：要確認とする理由", validators=[Length(max=500)])
        return out
    if term.kind == "yen":
        return {"value": NumberText(term.label)}
    if term.kind == "base_cap":
        return {key: NumberText(f"{term.label}（{label}）") for key, label in CAP_KINDS}
    if term.kind == "kinds":
        return {"value": CheckboxesField(term.label, choices=[(k, BODY_KIND_LABELS.get(k, k)) for k in BODY_KINDS])}
    if term.kind == "bool":
        return {"value": SelectField(term.label, choices=[("true", "はい"), ("false", "いいえ")])}
    if term.kind == "scope":
        return {
            mode: SelectField(f"{term.label}（{MODE_LABELS[mode]}）", choices=list(SCOPE_LABELS.items()))
            for mode in MODES
        }
    choices = {
        "rounding": ROUNDING_LABELS,
        "eligible_part": ELIGIBLE_PART_LABELS,
        "applies_to": APPLIES_TO_LABELS,
        "need_requirement": NEED_REQUIREMENT_LABELS,
    }.get(term.kind)
    if choices is not None:
        return {"value": SelectField(term.label, choices=list(choices.items()))}
    return {}


def _term_form(term: Term, categories: list[tuple[str, str]], sources: list[tuple[str, str]]) -> type[Form]:
    attrs: dict[str, Any] = dict(_value_fields(term, categories))
    attrs["wording"] = TextAreaField(
        f"{term.label}：資料の記載（引用）",
        validators=[DataRequired(f"{term.label}：資料の記載（引用）を入力してください")],
        render_kw={"rows": 2},
    )
    attrs["sources"] = CheckboxesField(f"{term.label}：出典", choices=sources, validate_choice=False)
    return type(f"Term_{term.slug}", (Form,), attrs)


class SourceRowForm(Form):
    id = StringField("出典 id", validators=[Optional(), Length(max=60, message="id は 60 文字以内にしてください")])
    publisher = StringField("発行者", validators=[Optional(), Length(max=80)])
    title = StringField("資料名", validators=[Optional(), Length(max=300)])


class RuleTermsBase(FlaskForm):
    version = StringField(
        "新しい版名",
        validators=[DataRequired("版名を入力してください"), Length(max=40, message="版名は 40 文字以内にしてください")],
    )
    fiscal_year = IntegerField(
        "年度（西暦）",
        validators=[
            InputRequired("年度を入力してください"),
            NumberRange(2000, 2100, message="年度は 2000〜2100 の西暦です"),
        ],
    )
    make_current = BooleanField("作成した版を現行にする")
    name = StringField("名称（画面・帳票に版名と並べて表示）", validators=[DataRequired("名称を入力してください")])
    title = StringField("表題", validators=[DataRequired("表題を入力してください")])
    notice = TextAreaField(
        "確認の注意書き（見込額と一緒に表示）",
        validators=[DataRequired("注意書きを入力してください")],
        render_kw={"rows": 2},
    )
    grant_name = StringField("補助事業の名称", validators=[DataRequired("補助事業の名称を入力してください")])
    special_tax_name = StringField("特別交付税措置の名称", validators=[DataRequired("名称を入力してください")])
    correction_set = BooleanField(
        "財政力補正の表を設定する", description="外すと未設定（係数 1.0）として扱い、見込額にその旨を表示します"
    )
    correction = FieldList(FormField(CorrectionRowForm), min_entries=8, max_entries=20)


def rule_terms_form(doc: dict, categories: list[tuple[str, str]], **kwargs: Any) -> RuleTermsBase:
    """The form for a new version of ``doc``. ``categories`` are (id, name) of the price book's categories; any
    category the document rates besides them is kept on the form too."""
    known = dict(categories)
    for m in measures_of(doc):
        rated = (m.get("categories") or {}).get("value") if isinstance(m.get("categories"), dict) else None
        for cid in rated or {}:
            known.setdefault(str(cid), str(cid))
    granted = _get(doc, ("grant", "categories", "value"))
    for cid in granted if isinstance(granted, dict) else {}:
        known.setdefault(str(cid), str(cid))
    cats = list(known.items())
    source_ids = [
        (str(s["id"]), str(s.get("title") or s["id"])) for s in doc.get("sources") or [] if isinstance(s, dict)
    ]
    terms = terms_of(doc)
    attrs: dict[str, Any] = {term.slug: FormField(_term_form(term, cats, source_ids)) for term in terms}
    for k, _m in enumerate(measures_of(doc)):
        attrs[f"measure_{k}_id"] = StringField(f"措置{k + 1}の id", validators=[DataRequired("id を入力してください")])
        attrs[f"measure_{k}_name"] = StringField(
            f"措置{k + 1}の名称", validators=[DataRequired("名称を入力してください")]
        )
    attrs["sources"] = FieldList(FormField(SourceRowForm), min_entries=len(source_ids) + 2, max_entries=40)
    cls = type("RuleTermsForm", (RuleTermsBase,), attrs)
    form = cls(**kwargs)
    form.terms = terms
    form.categories = cats
    return form


# --- document -> form data ---------------------------------------------------------------------------------------


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    node = doc
    for key in path:
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and key < len(node) else None
        else:
            node = node.get(key) if isinstance(node, dict) else None
    return node


def _rate_text(value: Any, mode: str) -> str:
    v = value.get(mode) if isinstance(value, dict) else value
    return "" if v is None or isinstance(v, bool) else f"{v:g}" if isinstance(v, (int, float)) else str(v)


def form_data(doc: dict, categories: list[tuple[str, str]]) -> dict[str, Any]:
    """What the form shows for ``doc`` (the ``data=`` of the form on GET)."""
    data: dict[str, Any] = {
        "name": doc.get("name", ""),
        "title": doc.get("title", ""),
        "notice": doc.get("notice", ""),
        "grant_name": _get(doc, ("grant", "name")) or "",
        "special_tax_name": _get(doc, ("special_tax", "name")) or "",
        "sources": [
            {"id": s.get("id", ""), "publisher": s.get("publisher", ""), "title": s.get("title", "")}
            for s in doc.get("sources") or []
            if isinstance(s, dict)
        ],
    }
    for k, m in enumerate(measures_of(doc)):
        data[f"measure_{k}_id"], data[f"measure_{k}_name"] = m.get("id", ""), m.get("name", "")
    for term in terms_of(doc):
        node = _get(doc, term.path)
        node = node if isinstance(node, dict) else {}
        value = node.get("value")
        sub: dict[str, Any] = {"wording": node.get("wording", ""), "sources": list(node.get("sources") or [])}
        if term.kind == "mode_rates":
            sub.update({mode: _rate_text(value, mode) for mode in MODES})
        elif term.kind == "category_rates":
            rated = value if isinstance(value, dict) else {}
            for cid, _name in categories:
                for mode in MODES:
                    sub[f"{cid}__{mode}"] = _rate_text(rated.get(cid), mode) if cid in rated else ""
        elif term.kind == "grant_categories":
            listed = value if isinstance(value, dict) else {}
            for cid, _name in categories:
                found = listed.get(cid)
                entry = found if isinstance(found, dict) else {}
                for key in GRANT_CATEGORY_KEYS:
                    sub[f"{cid}__{key}"] = str(entry.get(key) or "")
        elif term.kind == "yen":
            sub["value"] = "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
        elif term.kind == "base_cap":
            for key, _label in CAP_KINDS:
                v = value.get(key) if isinstance(value, dict) else None
                sub[key] = "" if v is None else f"{v:,}" if isinstance(v, int) else str(v)
        elif term.kind == "kinds":
            sub["value"] = list(value or [])
        elif term.kind == "bool":
            sub["value"] = "true" if value else "false"
        elif term.kind == "scope":
            sub.update({mode: (value or {}).get(mode, "member") for mode in MODES})
        elif term.kind == "need_requirement":
            sub["value"] = value or ""
        elif term.kind != "correction":
            sub["value"] = value
        data[term.slug] = sub
    return data


# --- form -> document --------------------------------------------------------------------------------------------


def _fail(field: Any, message: str) -> None:
    field.errors = [*field.errors, message]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _mode_rates(sub: Form, names: dict[str, str], what: str) -> Any:
    """A rate for every mode from three inputs: one number when they agree, per mode when not, None (absent) when
    all three are blank; a partly filled row is an error at its first blank input."""
    fields = {mode: sub[names[mode]] for mode in FORM_MODES}
    values = {mode: f.number for mode, f in fields.items()}
    if any(f.errors for f in fields.values()) or all(v is None for v in values.values()):
        return None
    blank = [mode for mode, v in values.items() if v is None]
    if blank:
        _fail(fields[blank[0]], f"{what}: 3 つの方式すべてに入力してください（同じ率なら同じ値を）")
        return None
    if len(set(values.values())) == 1:
        return _number(values[FORM_MODES[0]])  # type: ignore[arg-type]
    return {mode: _number(v) for mode, v in values.items()}  # type: ignore[arg-type]


def _yen(field: Any) -> int | None:
    if field.number is None:
        return None
    if not float(field.number).is_integer() or field.number < 0:
        _fail(field, f"0 以上の整数（円）を入力してください（「{field.data}」）")
        return None
    return int(field.number)


def _term_value(term: Term, sub: Form, categories: list[tuple[str, str]]) -> tuple[bool, Any]:
    """(has a value, the value) of one term's inputs."""
    kind = term.kind
    if kind == "mode_rates":
        value = _mode_rates(sub, {m: m for m in MODES}, term.label)
        if value is None and not any(sub[m].errors for m in MODES):
            _fail(sub[FORM_MODES[0]], f"{term.label}: 率を入力してください")
        return True, value
    if kind == "category_rates":
        rates = {}
        for cid, name in categories:
            value = _mode_rates(sub, {m: f"{cid}__{m}" for m in MODES}, f"{name}の措置率")
            if value is not None:
                rates[cid] = value
        return True, rates
    if kind == "grant_categories":
        listed: dict[str, dict[str, str]] = {}
        for cid, name in categories:
            status, quote, reason = (str(sub[f"{cid}__{key}"].data or "").strip() for key in GRANT_CATEGORY_KEYS)
            if not status:
                continue  # 対象外: not listed
            if not quote:
                _fail(sub[f"{cid}__quote"], f"{name}：扱いの根拠となる資料の記載（引用）を入力してください")
            if status == "要確認" and not reason:
                _fail(
                    sub[f"{cid}__reason"], f"{name}：要確認とする理由（資料から何が明らかでないか）を入力してください"
                )
            listed[cid] = {"status": status, "quote": quote} | ({"reason": reason} if reason else {})
        if not listed:
            _fail(sub[f"{categories[0][0]}__status"], "補助の対象分野（対象か要確認）を 1 つ以上選んでください")
        return True, listed
    if kind == "yen":
        if sub["value"].number is None and not sub["value"].errors:
            _fail(sub["value"], f"{term.label}: 金額を入力してください")
        return True, _yen(sub["value"])
    if kind == "base_cap":
        caps = {key: _yen(sub[key]) for key, _label in CAP_KINDS}
        if all(v is None for v in caps.values()):
            return True, None
        for key, label in CAP_KINDS:
            if caps[key] is None and not sub[key].errors:
                _fail(sub[key], f"{label}の上限も入力してください（上限なしなら両方を空欄に）")
        return True, caps
    if kind == "kinds":
        return True, [k for k in BODY_KINDS if k in (sub["value"].data or [])]
    if kind == "bool":
        return True, sub["value"].data == "true"
    if kind == "scope":
        return True, {mode: sub[mode].data for mode in MODES}
    if kind == "need_requirement":
        return True, sub["value"].data or None
    if kind == "correction":
        return False, None
    return True, sub["value"].data


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    node = doc
    for key in path[:-1]:
        node = node[key] if isinstance(key, int) else node.setdefault(key, {})
    node[path[-1]] = value


def document_from_form(form: RuleTermsBase, base: dict) -> dict:
    """The new version's document: the base with every term, name and source from the form. Input problems are
    added to the form's fields (check :func:`has_errors` afterwards)."""
    doc = copy.deepcopy(base)
    doc["version"] = (form.version.data or "").strip()
    doc["fiscal_year"] = form.fiscal_year.data
    for key in ("name", "title", "notice"):
        doc[key] = (form[key].data or "").strip()
    _set(doc, ("grant", "name"), (form.grant_name.data or "").strip())
    _set(doc, ("special_tax", "name"), (form.special_tax_name.data or "").strip())
    for k, _m in enumerate(measures_of(doc)):
        doc["special_tax"]["measures"][k]["id"] = (form[f"measure_{k}_id"].data or "").strip()
        doc["special_tax"]["measures"][k]["name"] = (form[f"measure_{k}_name"].data or "").strip()
    sources = []
    for entry in form["sources"].entries:
        row = {key: (entry.form[key].data or "").strip() for key in ("id", "publisher", "title")}
        if any(row.values()):
            sources.append({k: v for k, v in row.items() if v or k != "publisher"})
    doc["sources"] = sources
    for term in form.terms:
        sub = form[term.slug].form
        node = _get(doc, term.path)
        node = dict(node) if isinstance(node, dict) else {}
        has_value, value = _term_value(term, sub, form.categories)
        if has_value:
            node["value"] = value
        node["wording"] = (sub["wording"].data or "").strip()
        node["sources"] = list(sub["sources"].data or [])
        _set(doc, term.path, node)
    return doc


def has_errors(form: RuleTermsBase) -> bool:
    return bool(form.errors) or any(_field_errors(form))


def _field_errors(form: Any):
    for field in form:
        if hasattr(field, "entries"):
            for entry in field.entries:
                yield from _field_errors(entry.form) if hasattr(entry, "form") else ([entry] if entry.errors else [])
        elif hasattr(field, "form"):
            yield from _field_errors(field.form)
        elif field.errors:
            yield field


def error_list(form: RuleTermsBase) -> list[tuple[str, str, str]]:
    """(input id, the input's label, message) for every input with a problem, in the form's order: the summary above
    the form names each input and links to it."""
    return [(f.id, str(f.label.text), e) for f in _field_errors(form) for e in f.errors]


# --- the domain's problems, under their inputs --------------------------------------------------------------------

_TEXT_FIELDS = {"name": "name", "title": "title", "notice": "notice", "grant.name": "grant_name"}
_SOURCE_ROW = re.compile(r"^sources\[(\d+)\](?:\.(\w+))?$")
_MEASURE_TEXT = re.compile(r"^special_tax\.measures\[(\d+)\]\.(id|name)$")


def place_problem(form: RuleTermsBase, field_path: str | None, message: str) -> bool:
    """Put a problem of the domain's validator (its path in the document) under the input it is about; False when
    no input matches (it is then shown above the form)."""
    path = field_path or ""
    if path in ("version", "fiscal_year"):
        _fail(form[path], message)
        return True
    if path in _TEXT_FIELDS or path == "special_tax.name":
        _fail(form[_TEXT_FIELDS.get(path, "special_tax_name")], message)
        return True
    m = _MEASURE_TEXT.match(path)
    if m and f"measure_{m.group(1)}_{m.group(2)}" in form:
        _fail(form[f"measure_{m.group(1)}_{m.group(2)}"], message)
        return True
    m = _SOURCE_ROW.match(path)
    if m:
        entries = form["sources"].entries
        index = int(m.group(1))
        if index < len(entries):
            key = m.group(2) if m.group(2) in ("id", "publisher", "title") else "title"
            _fail(entries[index].form[key], message)
            return True
        return False
    best = None
    for term in form.terms:
        if (path == term.dotted or path.startswith(term.dotted + ".")) and (
            best is None or len(term.dotted) > len(best.dotted)
        ):
            best = term
    if best is None:
        return False
    sub = form[best.slug].form
    rest = path[len(best.dotted) :]
    if rest.startswith(".sources"):
        _fail(sub["sources"], message)
        return True
    if rest.startswith(".value"):
        parts = [p for p in rest[len(".value") :].split(".") if p]
        if best.kind == "category_rates" and parts:
            name = f"{parts[0]}__{parts[1] if len(parts) > 1 else FORM_MODES[0]}"
        elif best.kind == "grant_categories" and parts:
            name = f"{parts[0]}__{parts[1] if len(parts) > 1 and parts[1] in GRANT_CATEGORY_KEYS else 'status'}"
        elif best.kind in ("mode_rates", "scope"):
            name = parts[0] if parts and parts[0] in MODES else FORM_MODES[0]
        elif best.kind == "base_cap":
            name = CAP_KINDS[0][0]
        else:
            name = "value"
        if name in sub:
            _fail(sub[name], message)
            return True
    if best.kind == "correction":
        return False
    _fail(sub["wording"], message)
    return True
