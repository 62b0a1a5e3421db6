"""The hub's base layer: models, settings, the school's calendar, Russian names and dates, the rebuild queue.

Everything above (the sync side in `app.syncing`, the family site in `static_site`, the staff UI, the CLI)
imports from here; nothing here imports anything above it (`make lint` checks the layers).
"""

from __future__ import annotations

from flask import current_app

from app.base.settings import Settings


def settings() -> Settings:
    """The running app's school settings, with the calendar in force (app/base/school_calendar: the database's
    periods and holidays where the school changed them, else config.yaml's)."""
    from app.base.school_calendar import in_force  # it imports the models, which import this package

    return in_force(file_settings())


def file_settings() -> Settings:
    """The running app's settings exactly as config.yaml gives them (the calendar's defaults)."""
    value: Settings = current_app.extensions["tetrad.settings"]
    return value
