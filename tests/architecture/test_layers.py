"""Imports go down the layers of docs/architecture.md, never up: the pure domain imports nothing of the project
outside itself; reports and services know nothing of Flask; jobs build on services; the web and the command line
are at the top."""

from __future__ import annotations

import ast
from pathlib import Path

from .imports import ROOT, graph

RANK = {
    "domain": 0,
    "config": 0,
    "db": 1,
    "masterdata": 1,
    "charts": 1,
    "importers": 2,
    "reports": 2,
    "services": 3,
    "jobs": 4,
    "web": 5,
    "cli": 5,
    "app": 5,
}

# Upward imports that remain, each to be removed (the list only shrinks).
ALLOWED: set[tuple[str, str]] = set()


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def test_every_module_is_in_a_layer():
    assert {_layer(m) for m in graph()} <= set(RANK)


def test_the_domain_imports_only_the_domain():
    outside = sorted((m, t) for m, ts in graph().items() if _layer(m) == "domain" for t in ts if _layer(t) != "domain")
    assert not outside, outside


def test_imports_go_down_the_layers():
    upward = sorted(
        (m, t) for m, ts in graph().items() for t in ts if RANK[_layer(t)] > RANK[_layer(m)] and (m, t) not in ALLOWED
    )
    assert not upward, upward
    stale = sorted(pair for pair in ALLOWED if pair[1] not in graph().get(pair[0], set()))
    assert not stale, f"no longer imported: remove from ALLOWED: {stale}"


# --- the web layer translates: no queries, no transactions, no role spelling ------------------------------------

WEB = ROOT / "planner" / "web"
ROLE_NAMES = {"admin", "prefecture", "municipality"}
SESSION_METHODS = {"exec", "execute", "commit", "rollback", "flush", "scalar", "scalars", "refresh", "merge", "query"}
SESSION_ROW_METHODS = {"get", "add", "add_all", "delete"}  # the same names mean other things on dicts and sets
WHERE_QUERIES_GO = (
    "put the query or the change in planner/services (the module of its concern: services/plans, scenarios, "
    "needs, bodies, body_admin, user_admin, plan_lifecycle, ...), run a change as one transaction with "
    "services.transactions.run(session, work, ...), and call that from the view"
)
WHERE_ROLES_GO = (
    "ask planner.services.access instead (access.is_admin/is_coordinator/is_municipality/has_role, and its "
    "ADMIN, PREFECTURE, MUNICIPALITY, ROLES, PLANNERS for roles_required)"
)


def _sessionish(node: ast.expr) -> bool:
    """``session``, ``db_session()`` and the like: the receivers whose get/add/delete are database calls."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    if isinstance(node, ast.Call):
        return _sessionish(node.func)
    # Flask's cookie session (imported as session_cookie or flask_session) holds no rows
    return name is not None and name in {"session", "db", "db_session"}


def _is_role(node: ast.expr) -> bool:
    """``x.role`` or ``access.role_of(x)``; not ``User.role``, the column a query filters on."""
    if isinstance(node, ast.Attribute):
        return node.attr == "role" and not (isinstance(node.value, ast.Name) and node.value.id == "User")
    if isinstance(node, ast.Call):
        func = node.func
        return (isinstance(func, ast.Name) and func.id == "role_of") or (
            isinstance(func, ast.Attribute) and func.attr == "role_of"
        )
    return False


def web_violations(path: Path, root: Path = ROOT) -> list[str]:
    """What in one web module queries the database, holds a transaction, or spells or compares a role."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(root).as_posix()
    found: list[str] = []
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"sqlmodel", "sqlalchemy"}:
            found.append(f"{line} imports from {node.module}: {WHERE_QUERIES_GO}")
        elif isinstance(node, ast.Import) and any(
            a.name.split(".")[0] in {"sqlmodel", "sqlalchemy"} for a in node.names
        ):
            found.append(f"{line} imports the database library: {WHERE_QUERIES_GO}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "select":
                found.append(f"{line} builds a select(): {WHERE_QUERIES_GO}")
            elif isinstance(func, ast.Attribute) and (
                func.attr in SESSION_METHODS or (func.attr in SESSION_ROW_METHODS and _sessionish(func.value))
            ):
                found.append(f"{line} calls .{func.attr}() on the database session: {WHERE_QUERIES_GO}")
    return found + role_spellings(path, root)


def role_spellings(path: Path, root: Path = ROOT) -> list[str]:
    """Where one module spells a role or a set of roles, or compares a user's role itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(root).as_posix()
    found: list[str] = []
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "roles_required" and any(
                isinstance(a, ast.Constant) and a.value in ROLE_NAMES for a in node.args
            ):
                found.append(f"{line} spells a role in roles_required(): {WHERE_ROLES_GO}")
        elif isinstance(node, ast.Compare) and any(_is_role(n) for n in [node.left, *node.comparators]):
            found.append(f"{line} compares a user's role: {WHERE_ROLES_GO}")
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and any(
            isinstance(e, ast.Constant) and e.value == "admin" for e in node.elts
        ):
            found.append(f"{line} spells a set of roles: {WHERE_ROLES_GO}")
    return found


def test_the_web_layer_only_translates():
    # planner/web/db.py opens the request's session (and closes it); no other web module touches it but to pass it on
    found = [v for path in sorted(WEB.rglob("*.py")) if path != WEB / "db.py" for v in web_violations(path)]
    assert not found, "the web layer parses, calls a service and renders:\n" + "\n".join(found)


# Role spellings that remain outside planner/services/access.py (and the models' column), each with its reason.
ROLE_SPELLING_ALLOWED = {
    # create-user's --role choices: the command line imports no database layer (access.py's) before a command runs
    "planner/cli/data.py",
}


def test_roles_are_spelt_in_access_only():
    found = []
    for path in sorted((ROOT / "planner").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in {"planner/services/access.py", "planner/db/models.py"} | ROLE_SPELLING_ALLOWED:
            continue
        if not name.startswith("planner/migrations/"):
            found.extend(role_spellings(path))
    assert not found, "roles and their sets are spelt in planner/services/access.py only:\n" + "\n".join(found)
    still = sorted(name for name in ROLE_SPELLING_ALLOWED if not role_spellings(ROOT / name))
    assert not still, f"no longer spelling roles: remove from ROLE_SPELLING_ALLOWED: {still}"


def test_the_checker_sees_what_it_forbids(tmp_path):
    sample = tmp_path / "view.py"
    sample.write_text(
        "from sqlmodel import select\n"
        "def view(session):\n"
        "    session.exec(select(X)).all()\n"
        "    db_session().get(X, 1)\n"
        "    session.commit()\n"
        "    if current_user.role == 'admin':\n"
        "        pass\n"
        "    ROLES = ('admin', 'prefecture')\n"
        "    session.exec(select(User).where(User.role == ADMIN))\n"
        "    seen = set(); seen.add(1); request.args.get('prefecture')\n"
        "@roles_required('prefecture')\n"
        "def other(): pass\n",
        encoding="utf-8",
    )
    found = web_violations(sample, tmp_path)
    assert [f.split(" ", 1)[0] for f in found].count("view.py:3") == 2  # exec and select
    assert [f.split(" ", 1)[0] for f in found].count("view.py:9") == 2  # a query on User.role is no role check
    assert {f.split(":")[1].split(" ")[0] for f in found} == {"1", "3", "4", "5", "6", "8", "9", "11"}
