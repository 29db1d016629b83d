"""The data commands end to end: init-db, import-official, export-bodies, import-flags, create-user, demo."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from planner.cli import main
from tests.importers.test_official import POP_TITLE, _population_workbook


@pytest.fixture
def run(db_url, tmp_path):
    env = {"DATABASE_URL": db_url, "PLANNER_INSTANCE_PATH": str(tmp_path / "instance")}

    def invoke(*args, input=None):
        return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


def test_init_db_twice(run):
    first = run("init-db")
    assert first.exit_code == 0, first.output
    assert "1788 件追加" in first.stdout and "R8-ref-1 を登録しました" in first.stdout
    second = run("init-db")
    assert second.exit_code == 0
    assert "スキーマは最新です" in second.stdout and "団体: 変更なし" in second.stdout
    assert "単価表: 変更なし" in second.stdout


def test_commands_before_init_db_say_what_to_do(run, tmp_path):
    result = run("export-bodies", "-o", str(tmp_path / "b.csv"))
    assert result.exit_code == 2 and "planner init-db を実行してください" in result.stderr


def test_import_official_and_export(run, tmp_path):
    assert run("init-db").exit_code == 0
    bad = _population_workbook(tmp_path / "jinko.xlsx", POP_TITLE, [("202011", "長野県", "長野市", 1, 1, "x", 1)])
    result = run("import-official", str(bad))
    assert result.exit_code == 2
    assert "取り込みを中止しました（データベースには何も書き込んでいません）" in result.stderr
    assert f"{bad} 7行目 F（人口 計）列: 整数ではありません: 'x'" in result.stderr
    good = _population_workbook(tmp_path / "jinko2.xlsx", POP_TITLE, [("202011", "長野県", "長野市", 1, 1, 370000, 1)])
    result = run("import-official", str(good))
    assert result.exit_code == 0 and "1 団体に反映しました" in result.stdout
    out = tmp_path / "bodies.csv"
    result = run("export-bodies", "-o", str(out))
    assert result.exit_code == 0 and "1788 団体を書き出しました" in result.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 1788
    nagano = next(r for r in rows if r["code"] == "202011")
    # population from the imported file; 財政力指数 from the shipped reference data (init-db)
    assert nagano == {
        "code": "202011",
        "name": "長野市",
        "prefecture_code": "20",
        "kind": "city",
        "population": "370000",
        "fiscal_strength_index": "0.72",
        "lat": "36.64861111",
        "lng": "138.1944444",
        "disadvantaged": "0",
        "has_data_plan": "0",
        "no_allocation_tax": "0",
    }
    result = run("export-bodies", "-o", str(out), "--prefecture", "20")
    assert result.exit_code == 0 and "78 団体" in result.stdout


def test_import_flags(run, tmp_path):
    assert run("init-db").exit_code == 0
    flags = tmp_path / "flags.csv"
    flags.write_text("code,disadvantaged,has_data_plan\n204854,○,×\n202011,1,maybe\n", encoding="utf-8")
    result = run("import-flags", str(flags))
    assert result.exit_code == 2 and "flags.csv 3行目 C（has_data_plan）列: 値「maybe」は使えません" in result.stderr
    flags.write_text("code,disadvantaged,has_data_plan\n204854,○,×\n", encoding="utf-8")
    result = run("import-flags", str(flags), "--prefecture", "20")
    assert result.exit_code == 0 and "1 団体のフラグを更新しました" in result.stdout


def test_create_user(run):
    assert run("init-db").exit_code == 0
    result = run(
        "create-user",
        "--role",
        "municipality",
        "--username",
        "obuse",
        "--body",
        "205419",
        "--password-stdin",
        input="a-long-password\n",
    )
    assert result.exit_code == 0 and "利用者 obuse（municipality）を作成しました" in result.stdout
    result = run(
        "create-user",
        "--role",
        "municipality",
        "--username",
        "ghost",
        "--body",
        "999990",
        "--password-stdin",
        input="a-long-password\n",
    )
    assert result.exit_code == 2 and "エラー: 団体コード 999990 に当たる団体がありません" in result.stderr
    result = run("create-user", "--role", "admin", "--username", "root1", input="a-long-password\na-long-password\n")
    assert result.exit_code == 0


def test_demo_twice(run):
    assert run("init-db").exit_code == 0
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "【デモ】長野県" in first.stdout and "demo-admin" in first.stdout and "パスワード" in first.stdout
    assert "計画 No.1 第1版（計画 1）を参加団体に公表しました。回答期限" in first.stdout  # a plan for towns to answer
    second = run("demo")
    # the demo scenario and its draft 試算 (the published plan's releases go with them)
    assert second.exit_code == 0 and "シナリオ 2 件）は置き換えました" in second.stdout
    assert "計画 No.1 第1版" in second.stdout
