"""WSGI entry: the hub, with the family site's folder served by WhiteNoise."""

from whitenoise import WhiteNoise

from app import create_app

app = create_app()
application = WhiteNoise(app.wsgi_app)
