"""End-to-end tests in a real browser: the public and organiser flows in Debian's
Chromium, every page checked by axe-core and the Nu HTML Checker.

A package, so that its conftest and helpers never collide with tests/conftest.py
and tests/helpers.py. Its tools come from `.ci/browser-tools`; without them the
tests fail, saying so, rather than skip.
"""

from importlib.util import find_spec

MISSING = [name for name in ("playwright", "axe_playwright_python") if find_spec(name) is None]
if MISSING:
    raise ImportError(f"{', '.join(MISSING)} not installed: run .ci/browser-tools")
