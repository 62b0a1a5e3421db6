"""WSGI entry: the hub, with the family site's folder served in front of it (static_site.serve, WhiteNoise)."""

from app import create_app
from app.base.settings import ConfigError
from static_site.serve import serve_site

try:
    app = create_app()
except ConfigError as exc:  # one clear line naming the key and the line, no traceback
    raise SystemExit(str(exc)) from None
serve_site(app)  # wraps app.wsgi_app, so `flask run` and gunicorn serve the same site
application = app
