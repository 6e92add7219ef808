"""Entry point for gunicorn: `gunicorn wsgi:app`."""

from vigil import create_app

app = create_app()
