"""The ``planner`` command line. Each module registers its commands on :data:`main`.

- ``solve``, ``bench`` (planner.cli.solving): the optimiser on instance files, no database needed.
- ``report`` (planner.cli.reporting): cost-split PDFs from plan files.
- ``init-db``, ``import-official``, ``export-bodies``, ``demo``, ``create-user`` ... (planner.cli.data).
- ``run``, ``worker`` (planner.cli.serving).
- ``backup``, ``restore`` (planner.cli.maintenance).
- ``build-basemap`` (planner.cli.maps): the map's prefecture outlines, from the japanmap package.
"""

from __future__ import annotations

# Every command module, named: one that fails to import stops the command line instead of losing its commands.
from . import data, maintenance, maps, reporting, serving, solving  # noqa: F401
from .group import main

__all__ = ["main"]
