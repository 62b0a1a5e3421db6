"""gunicorn settings read from the working folder (`gunicorn wsgi:application` in /opt/tetrad).

Only the logger class is set here: its access log (off unless `--access-logfile` is given) never holds a family
token (app/base/logmask.py). Everything else stays on the command line, as docs/deployment.md shows.
"""

logger_class = "app.base.logmask.MaskingGunicornLogger"
