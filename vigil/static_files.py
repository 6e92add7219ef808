"""Static file addresses that change with the content, so browsers may keep them a year.

`url_for("static", filename=...)` adds `?v=` and the first 12 hex digits of the
file's SHA-256. A request whose `v` is the file's current hash can be cached for a
year without asking again: when the file changes, so does every address of it.
Without `v`, or with an old one (a page still open from before a deploy), the file
is served with `no-cache`, and its ETag (the same hash) lets the browser revalidate
with a 304.
"""

import hashlib
import os
import stat

from flask import Flask, Response, request, send_from_directory
from werkzeug.security import safe_join

ONE_YEAR = 31_536_000
VERSION_LENGTH = 12


def init_static_files(app: Flask) -> None:
    if not app.has_static_folder:
        return
    # Per app, per file: (mtime, size, inode) -> hash. Each version of a file is read
    # and hashed once; a file edited while the app runs gets a new address.
    versions: dict[str, tuple[tuple[int, int, int], str]] = {}

    def version(filename: str) -> str | None:
        """The hash of the file's current bytes, or None if there is no such file."""
        path = safe_join(app.static_folder, filename)
        if path is None:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        key = (info.st_mtime_ns, info.st_size, info.st_ino)
        known = versions.get(path)
        if known and known[0] == key:
            return known[1]
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()[:VERSION_LENGTH]
        versions[path] = (key, digest)
        return digest

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            current = version(values["filename"])
            if current:
                values["v"] = current

    def serve_static(filename: str) -> Response:
        """The file, kept a year when asked for by its current address; 404 if missing."""
        current = version(filename)
        response = send_from_directory(app.static_folder, filename, etag=current or True)
        cache = response.cache_control
        cache.public = True
        if current and request.args.get("v") == current:
            cache.no_cache = None
            cache.max_age = ONE_YEAR
            cache.immutable = True
        else:
            cache.no_cache = True
        return response

    app.view_functions["static"] = serve_static

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """Browsers ask for this before reading a page's icon link: no 404 on a first
        visit. The SVG icon, which they accept at this address too."""
        return serve_static("favicon.svg")

    app.extensions["vigil_static_version"] = version
