"""``planner build-basemap``: regenerate the map's prefecture outlines from the japanmap package."""

from __future__ import annotations

import click

from .group import main


@main.command(
    "build-basemap",
    help="地図の都道府県境（planner/data/prefecture_outlines.json）を japanmap パッケージから"
    "作り直します（開発用。pip install 'kyodo-planner[dev]' が必要）。",
)
def build_basemap_command() -> None:
    from planner.charts.basemap_build import write_outlines

    try:
        path = write_outlines()
    except RuntimeError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"{path} を書き出しました（ライセンス: {path.with_suffix('.LICENSE.txt').name}）")
