"""``planner report``: the cost-split PDFs of a plan file, for batch printing (no database needed)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .app_context import fail
from .group import main


@main.command(
    "report",
    help="計画ファイルから負担金算定書（共同調達グループごと、ファイル名はグループID）と "
    "summary.pdf、団体ごとの年度別負担額（statements/団体コード_団体名.pdf）と予算見積資料（finance/団体コード_団体名.pdf・"
    ".xlsx）、年度別予算総括表（PDF・Excel）、幹事団体方式のグループの協定書案（協定書案/…docx）と仕様統一方式の"
    "グループの覚書案（覚書案/…docx）を出力します。",
)
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--instance",
    "instance_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="計画の元のインスタンスファイル",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="出力フォルダ（なければ作成）",
)
@click.option("--members", is_flag=True, help="参加団体別の負担額通知（member-ニーズID.pdf）も出力する")
@click.option("--xlsx", "workbooks", is_flag=True, help="Excel（グループID.xlsx、summary.xlsx）も出力する")
@click.option("--price-book-version", default="", help="文書に記載する単価表の版（計画ファイルに記録がない場合）")
@click.option("--rule-version", default="", help="文書に記載する補助制度ルールの版（計画ファイルに記録がない場合）")
@click.option("--title", default="", help="文書に記載する計画名（既定: インスタンス名）")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="帳票を作るプロセスの数（既定: CPU のコア数、最大 4。1 ならこのプロセスだけで作ります）",
)
def report_command(
    plan_file: Path,
    instance_file: Path,
    out_dir: Path,
    members: bool,
    workbooks: bool,
    price_book_version: str,
    rule_version: str,
    title: str,
    workers: int | None,
) -> None:
    from planner.reports.context import ReportError, ReportMeta
    from planner.reports.files import write_batch

    meta = ReportMeta(price_book_version=price_book_version, rule_version=rule_version, title=title)
    started = time.perf_counter()
    try:
        written = write_batch(
            plan_file, instance_file, out_dir, members=members, workbooks=workbooks, meta=meta, workers=workers
        )
    except ReportError as e:
        fail(str(e))
    for path in written:
        click.echo(str(path))
    click.echo(f"{len(written)}件のファイルを {out_dir} に出力しました（{time.perf_counter() - started:.1f}秒）。")
