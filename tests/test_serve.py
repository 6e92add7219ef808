"""The README's run command: `flask --app vigil serve` serves pages and delivers mail itself."""

import email
import email.policy
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from conftest import free_port
from helpers import text_body

ROOT = Path(__file__).resolve().parent.parent


def test_serve_takes_an_rsvp_and_writes_its_email_into_the_instance_folder(tmp_path):
    instance = tmp_path / "instance"
    env = {**os.environ, "VIGIL_INSTANCE_PATH": str(instance), "VIGIL_MAIL_POLL_SECONDS": "0.2"}
    env.pop("MAIL_SERVER", None)
    env.pop("DATABASE_URL", None)
    env.pop("VIGIL_BASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "vigil"]
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*flask, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    try:
        for _ in range(100):
            try:
                opener.open(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        index = opener.open(f"{base}/", timeout=5).read().decode()
        slug = re.search(r'href="/events/(human-rights-day-20\d\d)"', index).group(1)
        page = opener.open(f"{base}/events/{slug}", timeout=5).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"csrf_token": token, "email": "serve@example.org", "guests": "0", "consent": "y"}
        ).encode()
        done = opener.open(f"{base}/events/{slug}/rsvp", data=form, timeout=5)
        assert done.url.endswith(f"/events/{slug}/rsvp/done")
        mail_dir = instance / "mail"
        for _ in range(100):
            files = list(mail_dir.glob("*.eml")) if mail_dir.exists() else []
            if files:
                break
            time.sleep(0.1)
        assert len(files) == 1
        content = files[0].read_text()
        assert "To: serve@example.org" in content
        assert "Subject: You have a place" in content
        message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
        # the link follows the port served on (not the default 5000)
        token = re.search(rf"{base}/rsvp/([A-Za-z0-9_-]{{20,}})", text_body(message)).group(1)
        response = opener.open(f"{base}/rsvp/{token}", timeout=5)
        assert response.headers["Server"].strip() == "Vigil"  # no versions for attackers
        page = response.read().decode()
        assert "Your RSVP" in page
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert b"Emails are written to" in output
    # nothing personal in the server's log, and the private link's path is redacted
    assert b"serve@example.org" not in output and token.encode() not in output
    assert b"GET /rsvp/[token]" in output
