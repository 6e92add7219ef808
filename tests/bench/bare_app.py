"""The yardstick for the surge benchmark: one Flask route returning a fixed string.

Served by gunicorn with Vigil's own `gunicorn.conf.py`, so the two differ only in
the application: `gunicorn -c gunicorn.conf.py --pythonpath tests/bench bare_app:app`.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def fixed():
    return "Hello, World!"
