"""WSGI entry: the hub, with the family site's folder served in front of it (static_site.serve, WhiteNoise)."""

from app import create_app
from static_site.serve import serve_site

app = create_app()
serve_site(app)  # wraps app.wsgi_app, so `flask run` and gunicorn serve the same site
application = app
