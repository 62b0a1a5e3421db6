"""The hub's base layer: models, settings, the school's calendar, Russian names and dates, the rebuild queue.

Everything above (the sync side in `app.syncing`, the family site in `static_site`, the staff UI, the CLI)
imports from here; nothing here imports anything above it (`make lint` checks the layers).
"""

from __future__ import annotations

from flask import current_app

from app.base.settings import Settings


def settings() -> Settings:
    """The running app's school settings."""
    value: Settings = current_app.extensions["tetrad.settings"]
    return value
