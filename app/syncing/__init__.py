"""The hub's sync side: the sync API, ingest of batches and USB files, pull, staff decisions, devices.

It stands on `app.base` and `sync/`, beside the family site (`static_site`), and imports neither the site
nor the staff UI.
"""
