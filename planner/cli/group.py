"""The ``planner`` command group itself: each command module registers its commands on :data:`main`, and
planner.cli imports them all (so that the modules import this one, never the package that imports them)."""

from __future__ import annotations

import click


@click.group(help="共同調達プランナー (kyodo planner): joint procurement of AI/RPA for local governments.")
@click.version_option(package_name="kyodo-planner")
def main() -> None:
    pass
