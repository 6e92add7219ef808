"""The shipped server set-up: `gunicorn wsgi:app` from the project folder, as the
README says, with the configuration gunicorn finds there by itself."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def serve(tmp_path, **env_overrides):
    """Start gunicorn on a fresh SQLite instance; returns the process and its address."""
    env = {**os.environ, "VIGIL_INSTANCE_PATH": str(tmp_path / "instance")}
    for name in ("DATABASE_URL", "MAIL_SERVER", "RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY"):
        env.pop(name, None)
    env.update(env_overrides)
    flask = [sys.executable, "-m", "flask", "--app", "vigil"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    env["VIGIL_BIND"] = f"127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(GUNICORN), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
            return process, base, log
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(log.read_text())


def worker_pids(master: int) -> list[int]:
    """The master's child processes, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def test_without_a_shared_store_one_process_counts_every_rate_limit(tmp_path):
    process, _, log = serve(tmp_path)
    try:
        assert len(worker_pids(process.pid)) == 1
    finally:
        stop(process)
    assert "Using worker: gthread" in log.read_text()


def test_with_redis_there_is_a_worker_per_core(tmp_path):
    process, _, _ = serve(tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379")
    try:
        assert len(worker_pids(process.pid)) == os.cpu_count()
    finally:
        stop(process)


def test_private_links_never_reach_the_access_log(tmp_path):
    token = "Qx7" * 14 + "A"
    process, base, log = serve(tmp_path)
    try:
        for path in (f"/rsvp/{token}", f"/volunteer/{token}/shifts.ics"):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(base + path, timeout=5)
    finally:
        stop(process)
    text = log.read_text()
    assert '"GET /rsvp/[token] HTTP/1.1" 404' in text
    assert token not in text
