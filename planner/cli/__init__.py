"""The ``planner`` command line. Each module registers its commands on :data:`main`.

- ``solve``, ``bench`` (planner.cli.solving): the optimiser on instance files, no database needed.
- ``report`` (planner.cli.reporting): cost-split PDFs from plan files.
- ``init-db``, ``import-official``, ``export-bodies``, ``demo``, ``create-user`` ... (planner.cli.data).
- ``run``, ``worker`` (planner.cli.serving).
- ``backup``, ``restore`` (planner.cli.maintenance).
- ``build-basemap`` (planner.cli.maps): the map's prefecture outlines, from the japanmap package.
"""

from __future__ import annotations

import importlib

import click


@click.group(help="共同調達プランナー (kyodo planner): joint procurement of AI/RPA for local governments.")
@click.version_option(package_name="kyodo-planner")
def main() -> None:
    pass


for _module in ("solving", "reporting", "data", "serving", "maintenance", "maps"):
    try:
        importlib.import_module(f"{__name__}.{_module}")
    except ModuleNotFoundError as _e:  # a command module not written yet must not break the others
        if _e.name != f"{__name__}.{_module}":
            raise
