"""共同調達プランナー (kyodo planner).

``planner.domain`` is the pure core (no Flask, no database); the web application, persistence, reports and
the command line are built around it. ``create_app`` is imported lazily so that importing the domain core
never imports Flask.
"""

__version__ = "0.1.0"


def create_app(test_config=None):
    from .app import create_app as _create_app

    return _create_app(test_config)
