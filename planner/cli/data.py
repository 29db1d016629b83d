"""Database commands: init-db, import-official, build-reference-data, import-flags, export-bodies, demo, create-user.

Bad input exits with status 2 and a Japanese message naming the file, row and column; nothing is written.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import click

from .app_context import fail
from .group import main


def database_url() -> str:
    """The application's DATABASE_URL (planner.config). These commands do not build the web application: init-db
    must work before anything else does, and a broken page must not stop data maintenance."""
    from planner.config import database_url as configured_url
    from planner.config import instance_path

    instance_path().mkdir(parents=True, exist_ok=True)  # the default SQLite database lives there
    return configured_url()


def with_engine(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from sqlalchemy.exc import SQLAlchemyError

        from planner.db.session import make_engine

        engine = make_engine(database_url())
        try:
            return func(engine, *args, **kwargs)
        except SQLAlchemyError as e:
            _database_error(e)
        finally:
            engine.dispose()

    return wrapper


def _fail_problems(problems: Iterable[str], header: str) -> NoReturn:
    click.echo(f"エラー: {header}（データベースには何も書き込んでいません）", err=True)
    for p in problems:
        click.echo(f"  - {p}", err=True)
    raise SystemExit(2)


def _database_error(e: Exception) -> None:
    detail = str(getattr(e, "orig", None) or e).splitlines()
    fail(
        f"データベースを使えません（{detail[0] if detail else e.__class__.__name__}）。"
        "DATABASE_URL を確認し、planner init-db を実行してください"
    )


@main.command(
    "init-db",
    help="スキーマを作成・更新し（Alembic）、全国 1,788 団体・単価表・補助制度ルールを投入します。何度実行しても安全です。",
)
@with_engine
def init_db_command(engine) -> None:
    from planner.services.init_db import init_database
    from planner.services.reference_data import ReferenceDataError

    try:
        report = init_database(engine)
    except ReferenceDataError as e:
        _fail_problems(e.problems, "参照データを読み込めません")
    for line in report.lines():
        click.echo(line)


@main.command(
    "import-official",
    help="総務省の公式ファイル（住民基本台帳人口、全市町村・全都道府県・政令指定都市の主要財政指標の xlsx）を取り込みます。"
    "ファイルの種類は見出しから判別します。1 つでも問題があれば何も書き込みません。",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_engine
def import_official_command(engine, files: tuple[Path, ...]) -> None:
    from planner.db.session import session_scope
    from planner.importers.errors import FileProblems
    from planner.services.bodies import import_official_files

    try:
        with session_scope(engine) as session:
            report = import_official_files(session, [(str(f), f) for f in files])
    except FileProblems as e:
        _fail_problems(e.messages, "取り込みを中止しました")
    for line in report.lines():
        click.echo(line)


@main.command(
    "build-reference-data",
    help="総務省の公式ファイル（住民基本台帳人口と主要財政指標の xlsx）から、同梱する参考データ"
    "（団体コードごとの人口・世帯数・財政力指数、出典・時点・政府標準利用規約の表示付き）を作ります。"
    "公式ファイルそのものは複製しません。init-db がこのデータを読み込みます。",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="出力先（既定: planner/data/reference_bodies.json）",
)
def build_reference_data_command(files: tuple[Path, ...], output: Path | None) -> None:
    from planner.importers.errors import FileProblems
    from planner.services.reference_bodies import REFERENCE_FILE, build_reference_dataset, write_reference_dataset

    try:
        doc = build_reference_dataset(files)
    except FileProblems as e:
        _fail_problems(e.messages, "参考データを作れません")
    target = output or REFERENCE_FILE
    write_reference_dataset(doc, target)
    for d in doc["datasets"]:
        click.echo(f"{d['file_name']}: {d['label']}（時点 {d['as_of']}）{d['bodies']} 団体")
    click.echo(f"{target}: {len(doc['rows'])} 団体を書き出しました（{doc['licence']}）")


@main.command(
    "import-flags",
    help="条件不利地域・官民データ活用推進計画・不交付団体のフラグを CSV/XLSX から一括更新します"
    "（列: code, disadvantaged, has_data_plan, no_allocation_tax。"
    "値は 1/0・true/false・○/×・あり/なし）。",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--prefecture", "prefecture_code", default=None, help="この都道府県（2桁コード）の団体だけを許可する")
@with_engine
def import_flags_command(engine, file: Path, prefecture_code: str | None) -> None:
    from planner.db.session import session_scope
    from planner.importers.errors import FileProblems
    from planner.services.bodies import import_flags

    if prefecture_code is not None:
        if not prefecture_code.isdigit() or not 1 <= int(prefecture_code) <= 47:
            fail(f"--prefecture は 01〜47 の都道府県コードです（{prefecture_code!r}）")
        prefecture_code = f"{int(prefecture_code):02d}"
    try:
        with session_scope(engine) as session:
            report = import_flags(session, file.name, file, prefecture_code=prefecture_code)
    except FileProblems as e:
        _fail_problems(e.messages, "取り込みを中止しました")
    click.echo(f"{file.name}: {report.rows} 団体を確認し、{len(report.changed)} 団体のフラグを更新しました")


@main.command(
    "export-bodies",
    help="団体一覧を CSV（UTF-8）に書き出します: code,name,prefecture_code,kind,population,"
    "fiscal_strength_index,lat,lng,disadvantaged,has_data_plan,no_allocation_tax",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="出力する CSV ファイル"
)
@click.option("--prefecture", "prefecture_code", default=None, help="この都道府県（2桁コード）の団体だけ")
@with_engine
def export_bodies_command(engine, output: Path, prefecture_code: str | None) -> None:
    from sqlmodel import Session

    from planner.services.bodies import bodies_csv_text

    with Session(engine) as session:
        text = bodies_csv_text(session, prefecture_code)
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"{output} に書き込めません（{e.strerror}）")
    click.echo(f"{output}: {text.count(chr(10)) - 1} 団体を書き出しました")


@main.command(
    "demo",
    help="デモデータ（長野県のニーズ、デモ用ログイン、参加団体に公表した計画と比較用の試算）を投入します。"
    "前回のデモデータは置き換えます。",
)
@click.option("--seed", type=int, default=None, help="乱数の種（既定: 固定値。同じ種なら同じニーズ）")
@click.option("--no-plan", is_flag=True, help="最適化・確定・公表をせず、ニーズと下書きシナリオだけを投入する")
@with_engine
def demo_command(engine, seed: int | None, no_plan: bool) -> None:
    from planner.db.session import session_scope
    from planner.jobs.demo import plan_demo
    from planner.services.demo import DEMO_SEED, DemoError, load_demo
    from planner.services.plan_lifecycle import LifecycleError
    from planner.services.reference_data import ReferenceDataError

    try:
        with session_scope(engine) as session:
            report = load_demo(session, seed=DEMO_SEED if seed is None else seed)
    except (DemoError, ReferenceDataError) as e:
        fail(str(e))
    for line in report.lines():
        click.echo(line)
    if no_plan:
        return
    click.echo("計画を作成しています（最適化・確定・公表）...")
    try:
        plans = plan_demo(engine, report)
    except (DemoError, LifecycleError) as e:
        fail(f"{e}（ニーズとシナリオは投入済みです。画面から「最適化を実行」できます）")
    for line in plans.lines():
        click.echo(line)


@main.command(
    "create-user",
    help="利用者を作成します（管理者はこのコマンドでのみ作成できます）。パスワードは入力を求めるか、--password-stdin で標準入力から読みます。",
)
@click.option("--role", required=True, type=click.Choice(["admin", "prefecture", "municipality"]))
@click.option("--username", required=True)
@click.option("--body", "body_code", default=None, help="市区町村担当者の団体コード（6桁）")
@click.option("--prefecture", "prefecture_code", default=None, help="都道府県担当者の都道府県コード（2桁）")
@click.option("--display-name", default="", help="表示名")
@click.option("--password-stdin", is_flag=True, help="パスワードを標準入力の 1 行目から読む")
@with_engine
def create_user_command(
    engine,
    role: str,
    username: str,
    body_code: str | None,
    prefecture_code: str | None,
    display_name: str,
    password_stdin: bool,
) -> None:
    from planner.db.session import session_scope
    from planner.services.users import UserError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("パスワード", hide_input=True, confirmation_prompt="パスワード（確認）")
    try:
        with session_scope(engine) as session:
            user = create_user(
                session,
                username,
                password,
                role,
                body_code=body_code,
                prefecture_code=prefecture_code,
                display_name=display_name,
            )
            summary = f"利用者 {user.username}（{role}）を作成しました（ID {user.id}）"
    except UserError as e:
        fail(str(e))
    click.echo(summary)
