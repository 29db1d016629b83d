"""``planner backup`` / ``planner restore``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from .app_context import fail, with_app
from .group import main


@main.command(
    "backup", help="データベース全体をバックアップします (SQLite: オンラインバックアップ、PostgreSQL: pg_dump)。"
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="出力ファイル (既定: instance/backups/planner-日時.sqlite または .dump)",
)
@with_app
def backup_command(app, output: Path | None) -> None:
    from planner.services.backup import BackupError, backup

    url = app.config["DATABASE_URL"]
    if output is None:
        suffix = ".sqlite" if url.startswith("sqlite") else ".dump"
        output = Path(app.instance_path) / "backups" / f"planner-{datetime.now():%Y%m%d-%H%M%S}{suffix}"
    try:
        written = backup(url, output)
    except BackupError as e:
        fail(str(e))
    click.echo(f"バックアップしました: {written}")


@main.command("restore", help="バックアップからデータベース全体を復元します (現在の内容は置き換えられます)。")
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="確認なしで復元する")
@with_app
def restore_command(app, backup_file: Path, yes: bool) -> None:
    from planner.services.backup import BackupError, restore

    if not yes:
        click.confirm(
            f"{app.config['DATABASE_URL']} の内容を {backup_file} で置き換えます。よろしいですか?", abort=True
        )
    try:
        restore(app.config["DATABASE_URL"], backup_file)
    except BackupError as e:
        fail(str(e))
    click.echo(f"復元しました: {backup_file}")
