"""Downloads of a plan's documents: PDF and Excel per consortium, per member, the summary, and all as a ZIP.

Coordinators of the scenario's prefecture and administrators get everything; municipality staff get the notice of
their own body's needs and the 負担金算定書 of the groups their body is in (and a ZIP of just those).
"""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from planner.db.models import Plan as PlanRow
from planner.db.models import Scenario
from planner.db.rows import id_of
from planner.domain.model import Instance
from planner.domain.settled_plan import SettledPlan
from planner.domain.subsidy_rules import SubsidyRulesError, parse_rules
from planner.jobs import documents as document_jobs
from planner.reports import bundle
from planner.reports.cache import MAX_AGE_SECONDS, cache_key
from planner.reports.context import ReportError, ReportMeta
from planner.reports.doc_cache import DocumentCache
from planner.reports.kind_renderers import RENDERERS
from planner.reports.kinds import KINDS
from planner.reports.names import fitted_name
from planner.services import access, document_settings, plans, transactions
from planner.services.reference_data import subsidy_rule_set
from planner.web.db import db_session
from planner.web.security import forbidden, roles_required

bp = Blueprint("reports", __name__)

MIMETYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "zip": "application/zip",
}


@dataclass
class _Loaded:
    """A plan the user may open (planner.services.plans.load_plan) with what its documents print besides the plan."""

    loaded: plans.LoadedPlan
    meta: ReportMeta

    @property
    def row(self) -> PlanRow:
        return self.loaded.row

    @property
    def scenario(self) -> Scenario:
        return self.loaded.scenario

    @property
    def instance(self) -> Instance:
        return self.loaded.instance

    @property
    def plan(self) -> SettledPlan:
        return self.loaded.plan

    @property
    def plan_access(self) -> access.PlanAccess:
        return self.loaded.access

    @property
    def sees_all(self) -> bool:
        return self.loaded.full

    def body_of_need(self, need_id: str) -> str:
        return self.instance.need(need_id).body

    def may_have(self, doc: bundle.Document) -> bool:
        """The access policy's answer for one document of this plan (which must exist), by its kind's audience
        (planner.reports.kinds): a group's documents go to the group's members, a member's or a body's to that
        body, the whole plan's to the prefecture."""
        audience = KINDS[doc.kind].audience
        bodies = bundle.document_body(self.instance, self.plan, doc)
        if audience == "group":
            return access.sees_group(current_user, self.plan_access, bodies)
        if audience == "body":
            (body,) = bodies
            return access.sees_member(current_user, self.plan_access, body)
        return self.sees_all


NOT_FOUND = "計画 {plan_id} のこの書類は、ないか閲覧できません"


def _not_found(plan_id: int):
    """The one answer for a document that does not exist and for one the user may not see: the same status and
    words for both, so that the URLs cannot be used to find out which plans, groups or needs exist."""
    abort(404, description=NOT_FOUND.format(plan_id=plan_id))


def _refuse(plan_id: int, detail: str):
    forbidden(detail, status=404, public_description=NOT_FOUND.format(plan_id=plan_id))


def _require(loaded: _Loaded, doc: bundle.Document) -> None:
    if not loaded.may_have(doc):
        _refuse(id_of(loaded.row), f"計画 {loaded.row.id}：帳票 {doc.kind} {doc.key}".rstrip())


def _load(plan_id: int) -> _Loaded:
    try:
        loaded = plans.load_plan(db_session(), current_user, plan_id)
    except plans.PlanNotFound as e:
        if e.refused:
            _refuse(plan_id, e.detail)
        _not_found(plan_id)
    session = db_session()
    row, scenario = loaded.row, loaded.scenario
    rules = subsidy_rule_set(session, row.rule_version)
    sources = _rule_sources(rules.data or {}) if rules else ()
    control = document_settings.document_control(session, scenario.prefecture_code, plan_id)
    if loaded.frozen is not None:  # a published version prints what it printed at publication
        control = loaded.frozen.control(control)
    meta = ReportMeta(
        price_book_version=row.price_book_version,
        rule_version=row.rule_version,
        title=loaded.title,
        sources=sources,
        issued_on=control.issued_on,
        control=control,
        price_source=str((row.plan_doc or {}).get("price_source") or ""),
    )
    return _Loaded(loaded, meta)


def _rule_sources(doc) -> tuple[str, ...]:
    """The sources the rule set's applied terms cite, spelt as the estimates spell them (so they are listed once);
    a document the domain cannot parse lists every source it names."""
    try:
        return parse_rules(doc).cited_source_titles()
    except SubsidyRulesError:
        return tuple(_source_text(s) for s in (doc.get("sources") or []))


def _source_text(source) -> str:
    if isinstance(source, dict):
        return "　".join(str(source[k]) for k in ("title", "url") if source.get(k))
    return str(source)


def _send(data: bytes, name: str, ext: str):
    return send_file(
        io.BytesIO(data),
        mimetype=MIMETYPES[ext],
        as_attachment=True,
        download_name=fitted_name(name, f".{ext}"),
        max_age=0,
    )


def _unprintable(e: ReportError):
    abort(422, description=f"この計画の帳票を作成できません: {e}")


# The URL part naming a document's key, by what the key is (planner.reports.kinds.DocumentKind.key_of).
KEY_ARGUMENTS = {"group": "group_id", "need": "need_id", "body": "code"}


def _document_name(loaded: _Loaded, doc: bundle.Document) -> str:
    """A download's name: a whole-plan document's category and the plan's title; the others, the name the ZIP
    gives the document (without its folder), its category in front."""
    kind = KINDS[doc.kind]
    if kind.whole_plan:
        return f"{kind.label}_{bundle.safe_name(loaded.meta.title)}"
    name = bundle.document_files(loaded.instance, loaded.plan, doc)[0]
    category, _, rest = name.rpartition("/")
    stem = rest.rsplit(".", 1)[0]
    return f"{category}_{stem}" if category else stem


def document(plan_id: int, kind: str, ext: str, **key_argument: str):
    """One document of a plan in one format, for any kind of planner.reports.kinds: a document that does not exist
    and one the user may not have are answered alike (404); a plan that cannot be printed answers 422."""
    (key,) = key_argument.values() or ("",)
    r = RENDERERS[kind]
    loaded = _load(plan_id)
    if not r.exists(loaded.instance, loaded.plan, key):
        _not_found(plan_id)
    doc = bundle.Document(kind, key)
    _require(loaded, doc)
    try:
        if ext == "pdf":  # the ZIP's own PDF where a build already laid it out (planner.reports.doc_cache)
            store = DocumentCache(_cache_folder() / document_jobs.DOCUMENT_CACHE)
            data = bundle.document_pdf(loaded.instance, loaded.plan, loaded.meta, doc, store)
        else:
            data = r.downloads[ext](loaded.instance, loaded.plan, key, loaded.meta)
    except ReportError as e:
        _unprintable(e)
    return _send(data, _document_name(loaded, doc), ext)


def _register_documents() -> None:
    """One URL per kind, all served by :func:`document`: /plans/1/reports/summary.pdf,
    /plans/1/reports/group/ocr-2026-1.xlsx, /plans/1/reports/agreement/rpa-2026-1.docx (endpoint ``<kind>_document``)."""
    for kind in KINDS.values():
        path = f"/plans/<int:plan_id>/reports/{kind.name}"
        if not kind.whole_plan:
            path += f"/<{KEY_ARGUMENTS[kind.key_of]}>"
        if len(kind.downloads) == 1:
            path += f".{kind.downloads[0]}"
        else:
            path += f".<any({', '.join(kind.downloads)}):ext>"

        def view(plan_id: int, ext: str = kind.downloads[0], *, _kind: str = kind.name, **key: str):
            return document(plan_id, _kind, ext, **key)

        view.__name__ = f"{kind.name}_document"
        bp.add_url_rule(path, endpoint=view.__name__, view_func=roles_required(*access.ROLES)(view))


_register_documents()


def _bundle(plan_id: int):
    """The documents of the plan this user may have, and the build's key and folder."""
    loaded = _load(plan_id)

    included = [d for d in bundle.plan_documents(loaded.plan, loaded.instance) if loaded.may_have(d)]
    if not included:
        _refuse(plan_id, f"計画 {plan_id}：利用者の団体の帳票はこの計画にありません")
    key = cache_key(
        loaded.row.instance_doc, loaded.row.plan_doc, asdict(loaded.meta), [(d.kind, d.key) for d in included]
    )
    return loaded, included, key, _cache_folder()


def _cache_folder() -> Path:
    return Path(current_app.config.get("REPORT_CACHE_DIR") or Path(current_app.instance_path) / "report_cache")


# The progress page polls its build's state every second. Working out the build's key means loading and keying the
# whole plan (about 0.1 s of CPU for the demo), which would compete with the build's own workers for the same
# cores; so the page, which has done that once, hands its poll the key, signed for this user and plan.
_KEY = re.compile(r"[0-9a-f]{16,128}")


def _progress_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="planner-bundle-progress")


def _progress_token(plan_id: int, key: str) -> str:
    return _progress_signer().dumps([plan_id, current_user.get_id(), key])


def _signed_key(plan_id: int) -> str | None:
    """The build key of a poll's token, if the token was signed here for this user and plan; None otherwise."""
    token = request.args.get("build")
    if not token:
        return None
    try:
        signed_plan, user, key = _progress_signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if signed_plan != plan_id or user != current_user.get_id() or not isinstance(key, str) or not _KEY.fullmatch(key):
        return None
    return key


def _bundle_request(loaded: _Loaded, included: list[bundle.Document]) -> document_jobs.BundleRequest:
    return document_jobs.BundleRequest(
        loaded.row.instance_doc,
        loaded.row.plan_doc,
        loaded.meta,
        tuple((d.kind, d.key) for d in included),
        label=loaded.meta.title,
    )


def start_full_set(plan_id: int) -> dict | None:
    """Start building every document of the plan, as its coordinator's ZIP asks for them (the same key, so the
    download finds this build running or done); None for a user who does not see the whole plan.

    Publication calls it: the coordinator and the finance sections fetch the full set next, and building it takes
    tens of seconds (bench/README.md), which they then need not wait for.
    """
    loaded, included, key, folder = _bundle(plan_id)
    if not loaded.sees_all:
        return None
    return document_jobs.start(current_app.config, folder, key, _bundle_request(loaded, included))


def _zip_name(loaded: _Loaded) -> str:
    who = (
        ""
        if loaded.sees_all
        else f"_{loaded.instance.bodies[current_user.body_code].name}"
        if current_user.body_code in loaded.instance.bodies
        else ""
    )
    return f"帳票一式_{bundle.safe_name(loaded.meta.title)}{bundle.safe_name(who) if who else ''}"


@bp.get("/plans/<int:plan_id>/reports.zip")
@roles_required(*access.ROLES)
def plan_zip(plan_id: int):
    """The ZIP when it is built; otherwise its build starts in the background and the progress page is shown."""
    loaded, included, key, folder = _bundle(plan_id)
    path = document_jobs.zip_path(folder, key)
    if path.exists():
        return send_file(
            path,
            mimetype=MIMETYPES["zip"],
            as_attachment=True,
            download_name=fitted_name(_zip_name(loaded), ".zip"),
            max_age=0,
        )
    document_jobs.start(current_app.config, folder, key, _bundle_request(loaded, included))
    return redirect(url_for("reports.bundle_progress", plan_id=plan_id))


@bp.get("/plans/<int:plan_id>/reports/bundle")
@roles_required(*access.ROLES)
def bundle_progress(plan_id: int):
    """The build's progress page, or its state as JSON: with the page's signed ``build`` token, without loading the
    plan again (see ``_progress_signer``)."""
    as_json = request.args.get("format") == "json" or request.accept_mimetypes.best == "application/json"
    signed = _signed_key(plan_id) if as_json else None
    if signed is not None:
        return _progress_json(
            plan_id, document_jobs.state(_cache_folder(), signed, current_app.config.get("REDIS_URL"))
        )
    loaded, included, key, folder = _bundle(plan_id)
    st = document_jobs.state(folder, key, current_app.config.get("REDIS_URL"))
    if as_json:
        return _progress_json(plan_id, st)
    return render_template(
        "reports/bundle_progress.html",
        plan_id=plan_id,
        state=st,
        documents=len(included),
        name=_zip_name(loaded),
        scenario=loaded.scenario,
        build=_progress_token(plan_id, key),
        keep_days=MAX_AGE_SECONDS // 86400,
        queue_text=queue_text(st),
        estimate_text=estimate_text(st),
    )


def queue_text(st: dict) -> str:
    """Where a build is: rendering now, or its place in the queue and what is before it."""
    if st.get("status") == "running":
        return "作成中です。"
    if st.get("status") != "queued":
        return ""
    ahead = int(st.get("ahead_builds") or 0)
    if not ahead:
        return "順番待ちの先頭です。まもなく作成を始めます。"
    return (
        f"待ち順 {int(st.get('position') or ahead + 1)} 番目です（先に {ahead} 件の帳票一式、"
        f"{int(st.get('ahead_documents') or 0):,} 文書の作成があります）。"
    )


def estimate_text(st: dict) -> str:
    """The estimated time until the ZIP is ready, from the measured seconds per document (or that none is known)."""
    if st.get("status") not in ("queued", "running"):
        return ""
    seconds = st.get("estimate_seconds")
    if seconds is None:
        return "完了までの見込み時間は、この環境で最初の作成が終わると表示します。"
    rate = st.get("seconds_per_document")
    basis = f"（これまでの作成の実測 1 文書あたり {rate:.2f} 秒から）" if rate else "（この作成の実測から）"
    if seconds < 60:
        return f"完了まであと約 {max(int(seconds), 1)} 秒の見込みです{basis}。"
    return f"完了まであと約 {round(seconds / 60):,} 分の見込みです{basis}。"


def _progress_json(plan_id: int, st: dict):
    return jsonify(
        {
            **{
                k: st.get(k)
                for k in (
                    "status",
                    "done",
                    "total",
                    "error",
                    "seconds",
                    "position",
                    "ahead_builds",
                    "estimate_seconds",
                    "rendered",
                    "reused",
                )
            },
            "queue_text": queue_text(st),
            "estimate_text": estimate_text(st),
            "download": url_for("reports.plan_zip", plan_id=plan_id),
        }
    )


@bp.post("/plans/<int:plan_id>/reports/bundle")
@roles_required(*access.ROLES)
def bundle_restart(plan_id: int):
    """Start the build: again after a failed one, or one that was never started or whose file was pruned."""
    loaded, included, key, folder = _bundle(plan_id)
    document_jobs.start(current_app.config, folder, key, _bundle_request(loaded, included))
    return redirect(url_for("reports.bundle_progress", plan_id=plan_id))


@bp.route("/prefectures/<prefecture_code>/document-settings", methods=["GET", "POST"])
@roles_required(*access.PLANNERS)
def document_settings_page(prefecture_code: str):
    """発行者・担当・連絡先・文書番号の記号 of a prefecture's documents: its coordinator's and administrators' setting."""
    from planner.domain.vocabulary import prefecture_name
    from planner.web.forms.documents import DocumentSettingForm

    if not (prefecture_code.isdigit() and len(prefecture_code) == 2 and 1 <= int(prefecture_code) <= 47):
        abort(404, description=f"都道府県コード {prefecture_code} はありません")
    if not access.sees_prefecture(current_user, prefecture_code):
        forbidden(f"都道府県コード {prefecture_code} の文書設定")
    session = db_session()
    row = document_settings.setting_row(session, prefecture_code)
    form = DocumentSettingForm(obj=row if request.method == "GET" else None)
    error = None
    if form.validate_on_submit():
        try:
            transactions.run(
                session,
                document_settings.save,
                prefecture_code,
                {k: form[k].data for k in document_settings.LIMITS},
                current_user,
            )
            return redirect(url_for("reports.document_settings_page", prefecture_code=prefecture_code, saved=1))
        except document_settings.SettingError as e:
            error = str(e)
    elif request.method == "GET":
        form.issuer_title.data, form.contact_person.data = row.issuer_title, row.contact_person
        form.contact.data, form.number_prefix.data = row.contact, row.number_prefix
    return render_template(
        "reports/document_settings.html",
        form=form,
        prefecture=prefecture_name(prefecture_code),
        saved=request.args.get("saved"),
        error=error,
        data_source=document_settings.data_source(session),
    )
