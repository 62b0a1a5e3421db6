"""The Flask extensions, created once and bound in the app factory."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.base.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
